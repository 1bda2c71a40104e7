// pybind11 bindings of the C++ core (the only file that includes Python headers).
//
// Arrays are checked for dtype, rank and contiguity here; their contents are validated by the core
// (std::invalid_argument -> ValueError). The engine runs with the GIL released.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <string>
#include <vector>

#include "codeswitch.hpp"

namespace py = pybind11;

namespace {

template <typename T>
const T* checked_data(const py::array& array, const char* name) {
  if (!array.dtype().equal(py::dtype::of<T>())) {
    throw py::type_error(std::string(name) + " must be a numpy array of dtype " +
                         py::str(py::dtype::of<T>()).cast<std::string>() + ", got " +
                         py::str(array.dtype()).cast<std::string>());
  }
  if (array.ndim() != 1) throw py::value_error(std::string(name) + " must be one-dimensional");
  if (!(array.flags() & py::array::c_style)) throw py::value_error(std::string(name) + " must be contiguous");
  return static_cast<const T*>(array.data());
}

template <typename T>
std::vector<T> to_vector(const py::array& array, const char* name) {
  const T* data = checked_data<T>(array, name);
  return std::vector<T>(data, data + array.size());
}

// Hand a vector to numpy without copying: the capsule owns it.
template <typename T>
py::array_t<T> to_numpy(std::vector<T>&& values) {
  auto* owned = new std::vector<T>(std::move(values));
  py::capsule owner(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>({static_cast<py::ssize_t>(owned->size())}, {sizeof(T)}, owned->data(), owner);
}

// Read-only view of a vector owned by `self` (a CompiledLexicon kept alive by the view).
template <typename T>
py::array_t<T> view(const std::vector<T>& values, py::handle self) {
  py::array_t<T> out({static_cast<py::ssize_t>(values.size())}, {sizeof(T)}, values.data(), self);
  py::detail::array_proxy(out.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  return out;
}

template <typename Id>
py::dict run_switch(const py::array& ids, const py::array& offsets, const py::array& example_index,
                    const py::array& token_info, uint64_t fingerprint,
                    const std::vector<const xcs::CompiledLexicon*>& lexicons, const xcs::CompiledLexicon* stopwords,
                    xcs::SwitchConfig config) {
  const Id* id_data = checked_data<Id>(ids, "ids");
  const int64_t* offset_data = checked_data<int64_t>(offsets, "offsets");
  const int64_t* index_data = checked_data<int64_t>(example_index, "example_index");
  const uint8_t* info_data = checked_data<uint8_t>(token_info, "token_info");
  const int64_t batch = static_cast<int64_t>(offsets.size()) - 1;
  if (batch < 1) throw py::value_error("empty batch: at least one sequence is required");
  if (static_cast<int64_t>(example_index.size()) != batch) {
    throw py::value_error("example_index has " + std::to_string(example_index.size()) + " entries for " +
                          std::to_string(batch) + " sequences");
  }
  const int64_t vocab_size = static_cast<int64_t>(token_info.size());
  xcs::SwitchResult result;
  {
    py::gil_scoped_release release;
    result = xcs::switch_batch<Id>(id_data, static_cast<int64_t>(ids.size()), offset_data, batch, index_data,
                                   info_data, vocab_size, fingerprint, lexicons, stopwords, config);
  }
  py::dict out;
  out["ids"] = to_numpy(std::move(result.ids));
  out["offsets"] = to_numpy(std::move(result.offsets));
  if (config.provenance) {
    out["word_index"] = to_numpy(std::move(result.word_index));
    out["language"] = to_numpy(std::move(result.language));
    out["switched"] = to_numpy(std::move(result.switched));
  }
  return out;
}

// xcs._native.switch_batch (its docstring below): the configuration, then the engine by id dtype.
py::dict switch_batch(const py::array& ids, const py::array& offsets, const py::array& example_index,
                      const py::array& token_info, uint64_t fingerprint,
                      const std::vector<const xcs::CompiledLexicon*>& lexicons, double p, uint64_t seed,
                      uint64_t epoch, std::vector<uint64_t> language_cumulative, int64_t max_length,
                      int num_threads, bool provenance, const xcs::CompiledLexicon* stopwords, bool keep_case,
                      bool protect_names) {
  xcs::SwitchConfig config;
  config.p = p;
  config.seed = seed;
  config.epoch = epoch;
  config.language_cumulative = std::move(language_cumulative);
  config.max_length = max_length;
  config.num_threads = num_threads;
  config.provenance = provenance;
  config.keep_case = keep_case;
  config.protect_names = protect_names;
  if (ids.dtype().equal(py::dtype::of<int32_t>())) {
    return run_switch<int32_t>(ids, offsets, example_index, token_info, fingerprint, lexicons, stopwords, config);
  }
  if (ids.dtype().equal(py::dtype::of<int64_t>())) {
    return run_switch<int64_t>(ids, offsets, example_index, token_info, fingerprint, lexicons, stopwords, config);
  }
  throw py::type_error("ids must be a numpy array of dtype int32 or int64, got " +
                       py::str(ids.dtype()).cast<std::string>());
}

}  // namespace

PYBIND11_MODULE(_native, m) {
  m.doc() = "xcs native core: compiled lexicons and the code-switching engine";
  m.def("abi_version", &xcs::abi_version,
        "Version of this module's interface (arguments, array layouts and draws); "
        "xcs.switching.compiled_lexicon.native_module() refuses a build whose version differs from the one the "
        "Python package expects.");

  py::class_<xcs::CompiledLexicon>(m, "CompiledLexicon",
                                   "A lexicon in token-ID CSR form (see xcs.switching.compiled_lexicon), validated "
                                   "and owned by the C++ core, with a hash table over its keys.\n\n"
                                   "CompiledLexicon(key_offsets, key_tokens, key_units, key_entry, "
                                   "entry_offsets, cand_offsets, cand_tokens, vocab_size, fingerprint, "
                                   "case_variants=1): 1-d contiguous arrays, offsets int64 and the rest int32; "
                                   "offsets start at 0, increase strictly and end at the size of what they "
                                   "index; cand_offsets has case_variants (1 or 4) rows per candidate. "
                                   "Bad arrays raise ValueError (dtype or shape: TypeError/ValueError).")
      .def(py::init([](const py::array& key_offsets, const py::array& key_tokens, const py::array& key_units,
                       const py::array& key_entry, const py::array& entry_offsets,
                       const py::array& cand_offsets, const py::array& cand_tokens, int64_t vocab_size,
                       uint64_t fingerprint, int32_t case_variants) {
             return std::make_unique<xcs::CompiledLexicon>(
                 to_vector<int64_t>(key_offsets, "key_offsets"), to_vector<int32_t>(key_tokens, "key_tokens"),
                 to_vector<int32_t>(key_units, "key_units"), to_vector<int32_t>(key_entry, "key_entry"),
                 to_vector<int64_t>(entry_offsets, "entry_offsets"),
                 to_vector<int64_t>(cand_offsets, "cand_offsets"),
                 to_vector<int32_t>(cand_tokens, "cand_tokens"), vocab_size, fingerprint, case_variants);
           }),
           py::arg("key_offsets"), py::arg("key_tokens"), py::arg("key_units"), py::arg("key_entry"),
           py::arg("entry_offsets"), py::arg("cand_offsets"), py::arg("cand_tokens"), py::arg("vocab_size"),
           py::arg("fingerprint"), py::arg("case_variants") = 1)
      .def_property_readonly("num_keys", &xcs::CompiledLexicon::num_keys)
      .def_property_readonly("num_entries", &xcs::CompiledLexicon::num_entries)
      .def_property_readonly("vocab_size", &xcs::CompiledLexicon::vocab_size)
      .def_property_readonly("fingerprint", &xcs::CompiledLexicon::fingerprint)
      .def_property_readonly("max_units", &xcs::CompiledLexicon::max_units)
      .def_property_readonly("case_variants", &xcs::CompiledLexicon::case_variants)
      .def(
          "arrays",
          [](py::object self) {
            const auto& lex = self.cast<const xcs::CompiledLexicon&>();
            py::dict out;
            out["key_offsets"] = view(lex.key_offsets(), self);
            out["key_tokens"] = view(lex.key_tokens(), self);
            out["key_units"] = view(lex.key_units(), self);
            out["key_entry"] = view(lex.key_entry(), self);
            out["entry_offsets"] = view(lex.entry_offsets(), self);
            out["cand_offsets"] = view(lex.cand_offsets(), self);
            out["cand_tokens"] = view(lex.cand_tokens(), self);
            return out;
          },
          "Read-only numpy views of the CSR arrays (they keep this object alive).");

  m.def(
      "switch_batch",
      &switch_batch,
      py::arg("ids"), py::arg("offsets"), py::arg("example_index"), py::arg("token_info"),
      py::arg("fingerprint"), py::arg("lexicons"), py::arg("p"), py::arg("seed"), py::arg("epoch"),
      py::arg("language_cumulative"), py::arg("max_length"), py::arg("num_threads"), py::arg("provenance"),
      py::kw_only(), py::arg("stopwords") = nullptr, py::arg("keep_case") = false, py::arg("protect_names") = false,
      "Code-switch a CSR batch of token ids (GIL released).\n\n"
      "Inputs (1-d, contiguous): ids int32 or int64 (all sequences concatenated), offsets int64 "
      "(batch + 1, from 0 to ids.size), example_index int64 (batch,), token_info uint8 (vocab_size,): token "
      "class in bits 0-2 and case bits in bits 3-6 (VocabTable.token_info; plain token classes: no case); "
      "fingerprint: the vocabulary's 64-bit fingerprint; lexicons: CompiledLexicon objects of that "
      "vocabulary; p in [0, 1]; language_cumulative: cumulative language thresholds on the 53-bit scale, the "
      "last 2^53 (one entry: bilingual); max_length (0: no limit); num_threads >= 1; provenance: also return the provenance arrays.\n"
      "Keyword-only: stopwords: a CompiledLexicon whose keys are stopwords (a stopword unit switches only as "
      "the start of a phrase key; None: none); keep_case: translations take the case pattern of the switched "
      "span; protect_names: a capitalised unit that does not start a sentence switches only as the start of "
      "a phrase key.\n"
      "Returns a dict of numpy arrays: ids int32 and offsets int64 (CSR, batch + 1), and with "
      "provenance word_index int32, language int8, switched uint8 (each like ids).");
}
