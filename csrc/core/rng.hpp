// Counter-based randomness shared (bit for bit) with xcs/codeswitch_numba.py.
//
// A draw is a pure function of (seed, epoch, example index, word-unit index, stream), so results
// never depend on threads, chunking or the order in which examples are processed.
#pragma once

#include <cstdint>

namespace xcs::rng {

constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ULL;
constexpr uint64_t kGolden2 = 0xD1B54A32D192ED03ULL;
constexpr uint64_t kOne53 = 1ULL << 53;  // probabilities live on a 53-bit integer scale

// Streams of draws per word unit.
constexpr uint64_t kStreamCoin = 0;
constexpr uint64_t kStreamLanguage = 1;
constexpr uint64_t kStreamCandidate = 2;

// splitmix64 finaliser: a bijective avalanche mix of 64 bits.
inline uint64_t mix64(uint64_t z) {
  z ^= z >> 30;
  z *= 0xBF58476D1CE4E5B9ULL;
  z ^= z >> 27;
  z *= 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return z;
}

inline uint64_t example_key(uint64_t seed, uint64_t epoch, uint64_t example) {
  return mix64(mix64(mix64(seed + kGolden) + epoch * kGolden2) + example * kGolden);
}

inline uint64_t draw(uint64_t key, uint64_t unit, uint64_t stream) {
  return mix64(key + (unit * 4 + stream + 1) * kGolden);
}

// Bernoulli threshold of probability p on the 53-bit scale: coin is (draw >> 11) < threshold.
inline uint64_t probability_threshold(double p) {
  return p >= 1.0 ? kOne53 : static_cast<uint64_t>(p * static_cast<double>(kOne53));
}

// Uniform index in [0, m) from the high 32 bits (Lemire's multiply-shift), m < 2^32.
inline uint64_t uniform_index(uint64_t d, uint64_t m) { return ((d >> 32) * m) >> 32; }

// Hash of a token-ID span spanning `units` word units (FNV-1a over the ids, then mixed).
template <typename Id>
inline uint64_t span_hash(const Id* tokens, int64_t n, int32_t units) {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (int64_t i = 0; i < n; ++i) {
    h = (h ^ static_cast<uint64_t>(static_cast<uint32_t>(tokens[i]))) * 0x100000001B3ULL;
  }
  return mix64(h + static_cast<uint64_t>(units));
}

}  // namespace xcs::rng
