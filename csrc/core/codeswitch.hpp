// The code-switching engine: plain C++17, no Python headers (csrc/bindings.cpp wraps it).
//
// Inputs are batches of token-ID sequences in CSR form (flat ids + offsets). Word units are found
// from a per-vocabulary token-class table; each unit is switched with probability p into a
// translation from a compiled lexicon. Randomness is counter-based (see rng.hpp), so the output of
// one example depends only on (seed, epoch, example index, input) and never on threads or chunking.
// Every function validates its inputs and throws std::invalid_argument with a readable message.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rng.hpp"

namespace xcs {

int abi_version();

// Token classes of the vocabulary table (one uint8 per token id; xcs/switching/vocab.py). Any other
// value is read as punctuation.
enum TokenClass : uint8_t {
  kContinuation = 0,  // continues the current word (SentencePiece: no leading '▁'; WordPiece: '##')
  kWordStart = 1,     // starts a new word
  kPunctuation = 2,   // pure punctuation/symbol token: a unit of its own, never a lexicon key start
  kSpecial = 3,       // special token (<s>, </s>, <pad>, ...): never touched, a unit of its own
  kApostrophe = 4,    // attached apostrophe: punctuation, except between a word token and a
                      // continuation token, where it joins the word unit ("don't" is one unit)
  kSentenceEnd = 5,   // punctuation with a sentence-final mark (. ! ? ...): ends a sentence
};

// Case bits of a token: of its cased letters, whether the first is upper / lower case and whether a
// later one is upper / lower case.
enum CaseBits : uint8_t { kFirstUpper = 1, kFirstLower = 2, kLaterUpper = 4, kLaterLower = 8 };

// The engine reads one "token info" byte per token id (xcs.switching.vocab.VocabTable.token_info):
// the TokenClass in bits 0-2 and the CaseBits in bits 3-6, so that the case of a word comes from the
// cache line its class was read from. Any byte is valid input.
constexpr uint8_t kClassMask = 7;
constexpr int kCaseShift = 3;

// Translation variants of a lexicon compiled with case variants, in the order of its candidate rows.
enum CaseVariant : uint8_t { kAsWritten = 0, kCapitalised = 1, kTitled = 2, kUppercased = 3 };
constexpr int32_t kCaseVariants = 4;

// A lexicon compiled for one vocabulary: flat CSR arrays plus an open-addressing hash table.
//   key k:        tokens key_tokens[key_offsets[k] : key_offsets[k+1]], spans key_units[k] word
//                 units, and translates to entry key_entry[k]
//   entry e:      candidates entry_offsets[e] .. entry_offsets[e+1]-1
//   candidate c:  case_variants (1 or kCaseVariants) rows r = c * case_variants + variant, row r
//                 the tokens cand_tokens[cand_offsets[r] : cand_offsets[r+1]]
class CompiledLexicon {
 public:
  CompiledLexicon(std::vector<int64_t> key_offsets, std::vector<int32_t> key_tokens,
                  std::vector<int32_t> key_units, std::vector<int32_t> key_entry,
                  std::vector<int64_t> entry_offsets, std::vector<int64_t> cand_offsets,
                  std::vector<int32_t> cand_tokens, int64_t vocab_size, uint64_t fingerprint,
                  int32_t case_variants);

  // Candidate block (see candidates()) of the key equal to tokens[0:n], which spans `units`
  // units, or -1.
  template <typename Id>
  int32_t find(const Id* tokens, int64_t n, int32_t units) const;

  // The translations of a found key, packed contiguously so that a switch reads one or two cache
  // lines: [n, tail, start_0, ..., start_n, tokens...]: candidate c as written is block[start_c :
  // start_{c+1}] (starts relative to the block). With case variants, the other variants are in
  // tails_ at `tail`: a (begin, end) pair per candidate and variant 1.. (pair (c, v) at index
  // 2 * (c * (case_variants - 1) + v - 1)), then their tokens (offsets relative to the tail); a
  // variant equal to an earlier one of its candidate shares its tokens. So the blocks are as
  // compact as without variants, and a written form reads what it did then.
  const int32_t* candidates(int32_t block) const { return blocks_.data() + block; }

  // Tokens of candidate `cand` of `block` in case variant `variant` (0: as written; others only
  // when case_variants() > 1); their number into n.
  const int32_t* translation(int32_t block, uint64_t cand, uint64_t variant, int64_t& n) const {
    const int32_t* b = blocks_.data() + block;
    if (variant == 0) {
      n = b[3 + cand] - b[2 + cand];
      return b + b[2 + cand];
    }
    const int32_t* tail = tails_.data() + b[1];
    const int32_t* pair = tail + 2 * (cand * static_cast<uint64_t>(case_variants_ - 1) + variant - 1);
    n = pair[1] - pair[0];
    return tail + pair[0];
  }

  // Cache hint for a later find(tokens, n, 1) of a one-unit span: brings in the one-token table's
  // row, or the filter word and the hash slot of a multi-token span. switch_batch issues it for
  // every word of an example it will look up before the first lookup, so that their misses overlap.
  template <typename Id>
  void prefetch(const Id* tokens, int64_t n) const {
    if (n == 1) {
      __builtin_prefetch(single_block_.data() + tokens[0]);
      return;
    }
    const uint64_t h = rng::span_hash(tokens, n, 1);
    __builtin_prefetch(filter_.data() + (((h >> 32) & filter_mask_) >> 6));
    __builtin_prefetch(table_.data() + (h & table_mask_));
  }

  // False when no key of unit_lengths()[length_slot] units starts with token `first`
  // (a bitset test that skips most hash probes for phrase lengths).
  bool may_start(size_t length_slot, int64_t first) const {
    const uint64_t* bits = first_token_bits_.data() + length_slot * bitset_words_;
    return (bits[first >> 6] >> (first & 63)) & 1U;
  }

  int64_t num_keys() const { return static_cast<int64_t>(key_units_.size()); }
  int64_t num_entries() const { return static_cast<int64_t>(entry_offsets_.size()) - 1; }
  int64_t vocab_size() const { return vocab_size_; }
  uint64_t fingerprint() const { return fingerprint_; }
  int32_t case_variants() const { return case_variants_; }
  // Distinct key lengths in units, longest first (phrase lexicons try the longest match first).
  const std::vector<int32_t>& unit_lengths() const { return unit_lengths_; }
  int32_t max_units() const { return unit_lengths_.empty() ? 0 : unit_lengths_.front(); }

  const std::vector<int64_t>& key_offsets() const { return key_offsets_; }
  const std::vector<int32_t>& key_tokens() const { return key_tokens_; }
  const std::vector<int32_t>& key_units() const { return key_units_; }
  const std::vector<int32_t>& key_entry() const { return key_entry_; }
  const std::vector<int64_t>& entry_offsets() const { return entry_offsets_; }
  const std::vector<int64_t>& cand_offsets() const { return cand_offsets_; }
  const std::vector<int32_t>& cand_tokens() const { return cand_tokens_; }

 private:
  std::vector<int64_t> key_offsets_;
  std::vector<int32_t> key_tokens_;
  std::vector<int32_t> key_units_;
  std::vector<int32_t> key_entry_;
  std::vector<int64_t> entry_offsets_;
  std::vector<int64_t> cand_offsets_;
  std::vector<int32_t> cand_tokens_;
  // Candidate blocks of all entries (layout: see candidates()), derived from the CSR arrays.
  std::vector<int32_t> blocks_;
  std::vector<int32_t> tails_;  // the case variants of the blocks (layout: see candidates())
  // Fills blocks_ and tails_; returns the block of every entry.
  std::vector<int32_t> build_blocks();
  // Appends the block of the entry whose candidates are first .. first + count - 1.
  void append_block(int64_t first, int64_t count);
  // One hash-table slot (32 bytes): hash, candidate block and the first two tokens inline, so that a
  // probe touches one cache line; only keys of three or more tokens are compared against key_tokens_.
  struct Slot {
    uint64_t hash;
    int32_t key;  // -1: empty
    int32_t block;
    int32_t first_token;
    int32_t second_token;
    int32_t n_tokens;
  };
  // Bloom-style filter over the hashes of multi-token keys (>= 16 bits per key, cache-resident):
  // most absent spans are rejected without touching the table.
  bool maybe_present(uint64_t hash) const {
    const uint64_t bit = (hash >> 32) & filter_mask_;
    return (filter_[bit >> 6] >> (bit & 63)) & 1U;
  }
  std::vector<uint64_t> filter_;
  uint64_t filter_mask_ = 0;
  std::vector<Slot> table_;  // size is a power of two; keys of two or more tokens
  // Candidate block of the one-token key per vocabulary id, or -1: most words are one token.
  std::vector<int32_t> single_block_;
  std::vector<uint64_t> first_token_bits_;  // one vocabulary bitset per unit length
  size_t bitset_words_ = 0;
  std::vector<int32_t> unit_lengths_;
  uint64_t table_mask_ = 0;
  int64_t vocab_size_ = 0;
  uint64_t fingerprint_ = 0;
  int32_t case_variants_ = 1;
};

struct SwitchConfig {
  double p = 0.5;
  uint64_t seed = 0;
  uint64_t epoch = 0;
  // Cumulative language thresholds on the 53-bit scale; last == 2^53. One entry = bilingual.
  std::vector<uint64_t> language_cumulative;
  int64_t max_length = 0;  // 0: no truncation
  int num_threads = 1;
  bool provenance = false;
  // A switched span's translation takes the span's case pattern (lexicons with case variants).
  bool keep_case = false;
  // A capitalised word unit that does not start a sentence matches only phrase keys (>= 2 units).
  bool protect_names = false;
};



// Output batch in CSR form. Provenance arrays are filled only when requested.
struct SwitchResult {
  std::vector<int32_t> ids;
  std::vector<int64_t> offsets;
  std::vector<int32_t> word_index;  // original unit index of each output token
  std::vector<int8_t> language;     // -1: original token, k: from lexicon k
  std::vector<uint8_t> switched;    // 1 if the token comes from a translation
};

// Code-switch a batch. `ids` (n_tokens) and `offsets` (batch + 1) describe the batch;
// `example_index` (batch) keys the random draws; `token_info` has one byte per vocabulary id (class
// and case, see kClassMask); `lexicons[k]` is the lexicon of language k (one per cumulative
// threshold); `stopwords` (or nullptr) holds the stopwords as keys: such a unit switches only as
// the start of a phrase.
template <typename Id>
SwitchResult switch_batch(const Id* ids, int64_t n_tokens, const int64_t* offsets, int64_t batch,
                          const int64_t* example_index, const uint8_t* token_info,
                          int64_t vocab_size, uint64_t fingerprint,
                          const std::vector<const CompiledLexicon*>& lexicons,
                          const CompiledLexicon* stopwords, const SwitchConfig& config);

// Checks every argument of switch_batch (which calls it first) and throws std::invalid_argument.
template <typename Id>
void validate_batch(const Id* ids, int64_t n_tokens, const int64_t* offsets, int64_t batch,
                    const int64_t* example_index, int64_t vocab_size, uint64_t fingerprint,
                    const std::vector<const CompiledLexicon*>& lexicons, const CompiledLexicon* stopwords,
                    const SwitchConfig& config);

}  // namespace xcs
