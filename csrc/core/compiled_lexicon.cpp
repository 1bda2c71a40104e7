// CompiledLexicon: validation of the CSR arrays and the open-addressing hash table over keys.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "codeswitch.hpp"
#include "rng.hpp"

namespace xcs {

int abi_version() { return 2; }

namespace {

void check(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument("CompiledLexicon: " + message);
}

// offsets must be [0, ..., total], nondecreasing, of the expected size; with `min_len`, every
// row must have at least that many elements.
void check_offsets(const std::vector<int64_t>& offsets, int64_t rows, int64_t total,
                   const char* name, int64_t min_len) {
  check(static_cast<int64_t>(offsets.size()) == rows + 1,
        std::string(name) + " has " + std::to_string(offsets.size()) + " entries, expected " +
            std::to_string(rows + 1));
  check(offsets.front() == 0, std::string(name) + "[0] must be 0");
  check(offsets.back() == total, std::string(name) + " must end at " + std::to_string(total));
  // Every offset within [0, total] first, so that the differences below cannot overflow.
  for (int64_t i = 0; i <= rows; ++i) {
    check(offsets[i] >= 0 && offsets[i] <= total,
          std::string(name) + "[" + std::to_string(i) + "] = " + std::to_string(offsets[i]) +
              " is outside [0, " + std::to_string(total) + "]");
  }
  for (int64_t i = 0; i < rows; ++i) {
    check(offsets[i + 1] - offsets[i] >= min_len,
          std::string(name) + ": row " + std::to_string(i) + " is shorter than " +
              std::to_string(min_len) + " or offsets decrease");
  }
}

void check_tokens(const std::vector<int32_t>& tokens, int64_t vocab_size, const char* name) {
  for (size_t i = 0; i < tokens.size(); ++i) {
    check(tokens[i] >= 0 && tokens[i] < vocab_size,
          std::string(name) + "[" + std::to_string(i) + "] = " + std::to_string(tokens[i]) +
              " is outside the vocabulary [0, " + std::to_string(vocab_size) + ")");
  }
}

}  // namespace

CompiledLexicon::CompiledLexicon(std::vector<int64_t> key_offsets, std::vector<int32_t> key_tokens,
                                 std::vector<int32_t> key_units, std::vector<int32_t> key_entry,
                                 std::vector<int64_t> entry_offsets,
                                 std::vector<int64_t> cand_offsets,
                                 std::vector<int32_t> cand_tokens, int64_t vocab_size,
                                 uint64_t fingerprint)
    : key_offsets_(std::move(key_offsets)),
      key_tokens_(std::move(key_tokens)),
      key_units_(std::move(key_units)),
      key_entry_(std::move(key_entry)),
      entry_offsets_(std::move(entry_offsets)),
      cand_offsets_(std::move(cand_offsets)),
      cand_tokens_(std::move(cand_tokens)),
      vocab_size_(vocab_size),
      fingerprint_(fingerprint) {
  check(vocab_size_ > 0 && vocab_size_ <= (int64_t{1} << 31), "vocab_size must be in [1, 2^31]");
  const int64_t n_keys = static_cast<int64_t>(key_units_.size());
  check(n_keys < (int64_t{1} << 30), "too many keys");
  check(!entry_offsets_.empty(), "entry_offsets must not be empty");
  const int64_t n_entries = static_cast<int64_t>(entry_offsets_.size()) - 1;
  check(!cand_offsets_.empty(), "cand_offsets must not be empty");
  const int64_t n_cands = static_cast<int64_t>(cand_offsets_.size()) - 1;
  check(static_cast<int64_t>(key_entry_.size()) == n_keys, "key_entry and key_units differ in size");
  check_offsets(key_offsets_, n_keys, static_cast<int64_t>(key_tokens_.size()), "key_offsets", 1);
  check_offsets(entry_offsets_, n_entries, n_cands, "entry_offsets", 1);
  check_offsets(cand_offsets_, n_cands, static_cast<int64_t>(cand_tokens_.size()), "cand_offsets", 1);
  check_tokens(key_tokens_, vocab_size_, "key_tokens");
  check_tokens(cand_tokens_, vocab_size_, "cand_tokens");
  for (int64_t k = 0; k < n_keys; ++k) {
    const int64_t len = key_offsets_[k + 1] - key_offsets_[k];
    check(key_units_[k] >= 1 && key_units_[k] <= len,
          "key " + std::to_string(k) + " spans " + std::to_string(key_units_[k]) +
              " units, expected 1.." + std::to_string(len));
    check(key_entry_[k] >= 0 && key_entry_[k] < n_entries,
          "key " + std::to_string(k) + " points at entry " + std::to_string(key_entry_[k]) +
              " of " + std::to_string(n_entries));
  }
  for (int64_t e = 0; e < n_entries; ++e) {
    check(entry_offsets_[e + 1] - entry_offsets_[e] < (int64_t{1} << 31),
          "entry " + std::to_string(e) + " has too many candidates");
  }

  for (int64_t k = 0; k < n_keys; ++k) {
    if (std::find(unit_lengths_.begin(), unit_lengths_.end(), key_units_[k]) == unit_lengths_.end()) {
      unit_lengths_.push_back(key_units_[k]);
    }
  }
  std::sort(unit_lengths_.begin(), unit_lengths_.end(), std::greater<int32_t>());
  bitset_words_ = static_cast<size_t>((vocab_size_ + 63) / 64);
  first_token_bits_.assign(bitset_words_ * unit_lengths_.size(), 0);

  // Candidate blocks (layout: see candidates()); their total size must fit int32 offsets.
  std::vector<int32_t> entry_block(static_cast<size_t>(n_entries));
  const int64_t block_size = 2 * n_entries + n_cands + static_cast<int64_t>(cand_tokens_.size());
  check(block_size < (int64_t{1} << 31), "too many candidate tokens");
  blocks_.reserve(static_cast<size_t>(block_size));
  for (int64_t e = 0; e < n_entries; ++e) {
    const int64_t first = entry_offsets_[e];
    const int64_t count = entry_offsets_[e + 1] - first;
    entry_block[e] = static_cast<int32_t>(blocks_.size());
    blocks_.push_back(static_cast<int32_t>(count));
    // candidate c starts where its tokens sit relative to the block: after the count and the
    // count + 1 starts, at its offset among the entry's candidate tokens
    for (int64_t c = first; c <= first + count; ++c) {
      blocks_.push_back(static_cast<int32_t>(2 + count + cand_offsets_[c] - cand_offsets_[first]));
    }
    blocks_.insert(blocks_.end(), cand_tokens_.begin() + cand_offsets_[first],
                   cand_tokens_.begin() + cand_offsets_[first + count]);
  }

  uint64_t multi_token_keys = 0;
  for (int64_t k = 0; k < n_keys; ++k) multi_token_keys += key_offsets_[k + 1] - key_offsets_[k] > 1;
  uint64_t filter_bits = uint64_t{1} << 16;
  while (filter_bits < 16 * multi_token_keys) filter_bits <<= 1;
  filter_.assign(filter_bits / 64, 0);
  filter_mask_ = filter_bits - 1;
  uint64_t table_size = 16;
  while (table_size < 2 * multi_token_keys) table_size <<= 1;
  table_.assign(table_size, Slot{0, -1, -1, -1, -1, 0});
  table_mask_ = table_size - 1;
  single_block_.assign(static_cast<size_t>(vocab_size_), -1);
  for (int64_t k = 0; k < n_keys; ++k) {
    const int32_t* tokens = key_tokens_.data() + key_offsets_[k];
    const int64_t len = key_offsets_[k + 1] - key_offsets_[k];
    check(find(tokens, len, key_units_[k]) < 0, "key " + std::to_string(k) + " is a duplicate");
    if (len == 1) {
      single_block_[tokens[0]] = entry_block[key_entry_[k]];
    } else {
      const uint64_t h = rng::span_hash(tokens, len, key_units_[k]);
      const uint64_t bit = (h >> 32) & filter_mask_;
      filter_[bit >> 6] |= uint64_t{1} << (bit & 63);
      uint64_t slot = h & table_mask_;
      while (table_[slot].key >= 0) slot = (slot + 1) & table_mask_;
      table_[slot] = Slot{h, static_cast<int32_t>(k), entry_block[key_entry_[k]], tokens[0], tokens[1],
                          static_cast<int32_t>(len)};
    }
    const size_t length_slot = static_cast<size_t>(
        std::find(unit_lengths_.begin(), unit_lengths_.end(), key_units_[k]) - unit_lengths_.begin());
    first_token_bits_[length_slot * bitset_words_ + (tokens[0] >> 6)] |= uint64_t{1} << (tokens[0] & 63);
  }
}

template <typename Id>
int32_t CompiledLexicon::find(const Id* tokens, int64_t n, int32_t units) const {
  if (n == 1) return single_block_[tokens[0]];  // a one-token span is one unit
  const uint64_t h = rng::span_hash(tokens, n, units);
  if (!maybe_present(h)) return -1;
  uint64_t index = h & table_mask_;
  for (;;) {
    const Slot& slot = table_[index];
    if (slot.key < 0) return -1;
    // Equal token sequences have equal unit counts, so comparing the tokens is enough.
    if (slot.hash == h && slot.n_tokens == n && slot.first_token == static_cast<int64_t>(tokens[0]) &&
        slot.second_token == static_cast<int64_t>(tokens[1])) {
      const int32_t* key = key_tokens_.data() + key_offsets_[slot.key];
      bool equal = true;
      for (int64_t i = 2; i < n && equal; ++i) equal = static_cast<int64_t>(key[i]) == tokens[i];
      if (equal) return slot.block;
    }
    index = (index + 1) & table_mask_;
  }
}

template int32_t CompiledLexicon::find<int32_t>(const int32_t*, int64_t, int32_t) const;
template int32_t CompiledLexicon::find<int64_t>(const int64_t*, int64_t, int32_t) const;

}  // namespace xcs
