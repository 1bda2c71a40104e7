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

// Token classes of the vocabulary table (one uint8 per token id).
enum TokenClass : uint8_t {
  kContinuation = 0,  // continues the current word (SentencePiece: no leading '▁'; WordPiece: '##')
  kWordStart = 1,     // starts a new word
  kPunctuation = 2,   // pure punctuation/symbol token: a unit of its own, never a lexicon key start
  kSpecial = 3,       // special token (<s>, </s>, <pad>, ...): never touched, a unit of its own
};

// A lexicon compiled for one vocabulary: flat CSR arrays plus an open-addressing hash table.
//   key k:        tokens key_tokens[key_offsets[k] : key_offsets[k+1]], spans key_units[k] word
//                 units, and translates to entry key_entry[k]
//   entry e:      candidates entry_offsets[e] .. entry_offsets[e+1]-1
//   candidate c:  tokens cand_tokens[cand_offsets[c] : cand_offsets[c+1]]
class CompiledLexicon {
 public:
  CompiledLexicon(std::vector<int64_t> key_offsets, std::vector<int32_t> key_tokens,
                  std::vector<int32_t> key_units, std::vector<int32_t> key_entry,
                  std::vector<int64_t> entry_offsets, std::vector<int64_t> cand_offsets,
                  std::vector<int32_t> cand_tokens, int64_t vocab_size, uint64_t fingerprint);

  // Candidate block (see candidates()) of the key equal to tokens[0:n], which spans `units`
  // units, or -1.
  template <typename Id>
  int32_t find(const Id* tokens, int64_t n, int32_t units) const;

  // The translations of a found key, packed contiguously so that a switch reads one or two cache
  // lines: [n_cands, start_0, ..., start_n_cands, tokens...]; candidate c is
  // block[start_c : start_{c+1}] (starts are relative to the block).
  const int32_t* candidates(int32_t block) const { return blocks_.data() + block; }

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
// `example_index` (batch) keys the random draws; `token_class` has one entry per vocabulary id;
// `lexicons[k]` is the lexicon of language k (one per cumulative threshold).
template <typename Id>
SwitchResult switch_batch(const Id* ids, int64_t n_tokens, const int64_t* offsets, int64_t batch,
                          const int64_t* example_index, const uint8_t* token_class,
                          int64_t vocab_size, uint64_t fingerprint,
                          const std::vector<const CompiledLexicon*>& lexicons,
                          const SwitchConfig& config);

// Checks every argument of switch_batch (which calls it first) and throws std::invalid_argument.
template <typename Id>
void validate_batch(const Id* ids, int64_t n_tokens, const int64_t* offsets, int64_t batch,
                    const int64_t* example_index, int64_t vocab_size, uint64_t fingerprint,
                    const std::vector<const CompiledLexicon*>& lexicons, const SwitchConfig& config);

}  // namespace xcs
