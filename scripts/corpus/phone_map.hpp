// circa-corpus: espeak-ng phoneme mnemonics -> TIMIT's 61 phones -> the folded 39 (circa::timit39_phones()).
//
// The table (scripts/corpus/espeak_to_timit.txt) has no default entry: a mnemonic it does not list is an error that
// names the mnemonic, the accent and the utterance. The same mnemonic can sound different per accent (espeak's
// "3" is [ɚ] in en-us and [ə] in en-gb), so entries live in sections: "[*]" for every accent, "[en-us]" (or a
// comma list) for overrides that win for those accents.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace circa::corpus {

// The 61 TIMIT phones (TIMIT's PHONCODE.DOC order).
const std::vector<std::string>& timit61_phones();

// Lee & Hon folding to the 39 classes, as Kaldi's egs/timit/s5/conf/phones.60-48-39.map. Returns the index into
// circa::timit39_phones(). TIMIT's "q" (glottal stop) has no class there (Kaldi deletes it from transcripts); a
// frame needs one, so q's frames are sil, which PER drops as Kaldi's scoring does. Throws std::out_of_range for a
// name that is not a TIMIT-61 phone.
int fold_to_39(const std::string& timit61);

// Removes espeak's stress and syllable marks (' , % =) from a mnemonic. espeak-ng 1.51 reports phoneme events
// without them, but its phoneme strings (espeak_TextToPhonemes, -x) carry them, so a table built from either works.
std::string strip_marks(const std::string& mnemonic);

// What one mnemonic becomes.
struct PhoneMapEntry {
  std::vector<std::string> timit;  // 1 or 2 TIMIT-61 phones; 2 splits the phoneme's frames in half
  bool merge = false;              // "-": a modifier with no phone of its own; its frames go to the previous phone
                                   // (to the next one after a silence)
  int line = 0;                    // line in the table, for messages
};

class PhoneMap {
public:
  // Parses the table; every error names `name` and the line.
  static PhoneMap parse(const std::string& text, const std::string& name);
  static PhoneMap load(const std::string& path);

  // The entry for `mnemonic` (marks stripped) spoken in `accent`: the accent's section first, then "[*]". Throws
  // InputError "unmapped espeak phoneme '<m>' (accent <a>) in utterance <utt>" when neither lists it.
  const PhoneMapEntry& lookup(const std::string& accent, const std::string& mnemonic, const std::string& utt) const;
  bool has(const std::string& accent, const std::string& mnemonic) const;

  const std::string& name() const { return name_; }

private:
  std::string name_;
  std::map<std::string, std::map<std::string, PhoneMapEntry>> sections_;  // accent ("*" = all) -> mnemonic -> entry
};

}  // namespace circa::corpus
