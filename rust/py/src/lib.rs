//! `unhardcoded._core`: the thin PyO3 binding of unhardcoded-core (contract: python/unhardcoded/_core.pyi).
//!
//! Every native object wraps an `Arc` of an immutable core value, so Python objects are frozen and
//! shareable across threads. Parsing, admission, catalog building and evaluation run with the
//! GIL released. Results stay in Rust until asked for: a `RankResult` over a million models holds
//! flat arrays and builds Python dicts only for the page of verdicts requested.

// Core errors are cold and carry a path, message and help; boxing them would only move the cost.
#![allow(clippy::result_large_err)]

use std::borrow::Cow;
use std::ffi::CStr;
use std::sync::{Arc, OnceLock};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyMemoryView, PyString, PyTuple, PyType,
};

use unhardcoded_core::canonical::{self, to_jcs, write_jcs, write_string};
use unhardcoded_core::catalog::Catalog as CoreCatalog;
use unhardcoded_core::error::{Code, Error, ERROR_CODES, ERROR_RULES};
use unhardcoded_core::eval::{self, Outcome, Status, BLAME_HOST_FLOOR, SEED_LIMIT};
use unhardcoded_core::fingerprint::fingerprint as blake3_fingerprint;
use unhardcoded_core::flow::{self, AdmittedFlow};
use unhardcoded_core::json::{self, Limits, Value};
use unhardcoded_core::policy::{self, ast, AdmittedPolicy};
use unhardcoded_core::requirements::Requirements;
use unhardcoded_core::vocab::Vocabulary;
use unhardcoded_core::{mutate, FLOW_VERSION, VERSION};

// The exceptions are plain Python classes so they behave like any ValueError: `args`, `str()`,
// pickling and `except ValueError` all work without special cases.
const ERRORS_PY: &CStr = cr#"
class UnhardcodedError(ValueError):
    """Bad input, refused with a stable `code` and `rule`, the JSON Pointer `path` of the
    offending node, a one-sentence `message`, and optional `help`, `did_you_mean` and `node`."""

    def __init__(self, message, code="invalid_request", rule=None, path="", help=None,
                 did_you_mean=None, node=None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.rule = rule
        self.path = path
        self.help = help
        self.did_you_mean = did_you_mean
        self.node = node

    def to_dict(self):
        """The error as the JSON object the HTTP API and the CLI report."""
        return {"code": self.code, "rule": self.rule, "path": self.path, "message": self.message,
                "help": self.help, "did_you_mean": self.did_you_mean, "node": self.node}

    def __reduce__(self):
        return (type(self), (self.message, self.code, self.rule, self.path, self.help,
                             self.did_you_mean, self.node))

    def __str__(self):
        where = f" at '{self.path}'" if self.path else ""
        rule = f" ({self.rule})" if self.rule else ""
        hint = f" Did you mean '{self.did_you_mean}'?" if self.did_you_mean else ""
        return f"{self.code}{rule}{where}: {self.message}{hint}"


class NoCandidates(UnhardcodedError):
    """No model survived the policy. `result` holds every verdict, so the caller can see why."""

    def __init__(self, message, code="no_candidates", rule="empty_cascade", path="", help=None,
                 did_you_mean=None, node=None, result=None):
        super().__init__(message, code, rule, path, help, did_you_mean, node)
        self.result = result

    def __reduce__(self):
        return (type(self), (self.message, self.code, self.rule, self.path, self.help,
                             self.did_you_mean, self.node))


UnhardcodedError.__module__ = NoCandidates.__module__ = "unhardcoded"
"#;

/// Texts shorter than this are read with the GIL held: releasing and re-taking it costs more than
/// the few microseconds such a read takes, and other threads gain nothing from so short a gap.
/// Worse, in a server whose other threads (the trace journal's committer, a thread pool) want the
/// GIL, every release hands it over and the call waits for it to come back: in the router host a
/// 5 µs admission cost tens of microseconds that way.
const DETACH_BYTES: usize = 16 << 10;
/// The same bar for evaluation, in models (≈5 ns each): below it, ranking keeps the GIL.
const DETACH_MODELS: usize = 4096;

/// Run `work` with the GIL released only when it is `heavy` (see DETACH_BYTES).
fn detach_if<T: Send>(py: Python<'_>, heavy: bool, work: impl FnOnce() -> T + Send) -> T {
    if heavy {
        py.detach(work)
    } else {
        work()
    }
}

static UNHARDCODED_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static NO_CANDIDATES: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static CORE_VOCAB: OnceLock<Vocabulary> = OnceLock::new();

fn core_vocab() -> &'static Vocabulary {
    CORE_VOCAB.get_or_init(Vocabulary::core)
}

fn error_kwargs<'py>(py: Python<'py>, e: &Error) -> PyResult<Bound<'py, PyDict>> {
    let kw = PyDict::new(py);
    kw.set_item("code", e.code.as_str())?;
    kw.set_item("rule", e.rule)?;
    kw.set_item("path", &e.path)?;
    kw.set_item("help", e.help.as_deref())?;
    kw.set_item("did_you_mean", e.did_you_mean.as_deref())?;
    kw.set_item("node", e.node.as_deref())?;
    Ok(kw)
}

fn raise_as(py: Python<'_>, class: &PyOnceLock<Py<PyType>>, e: &Error, extra: Option<(&str, Py<PyAny>)>) -> PyErr {
    let Some(cls) = class.get(py) else {
        return PyValueError::new_err(e.to_string());
    };
    let made = error_kwargs(py, e).and_then(|kw| {
        if let Some((name, value)) = extra {
            kw.set_item(name, value)?;
        }
        cls.bind(py).call((e.message.as_str(),), Some(&kw))
    });
    match made {
        Ok(exc) => PyErr::from_value(exc),
        Err(err) => err,
    }
}

fn to_py_err(e: Error) -> PyErr {
    Python::attach(|py| raise_as(py, &UNHARDCODED_ERROR, &e, None))
}

fn bad(code: Code, rule: &'static str, path: &str, message: impl Into<String>) -> PyErr {
    to_py_err(Error::new(code, rule, path, message))
}

/// The JSON bytes of an argument: `str` and bytes-likes as they are; any other object through
/// `json.dumps(obj, allow_nan=True, ensure_ascii=True)`, so NaN, huge integers and lone
/// surrogates reach the strict reader and are refused there with a stable rule.
fn json_input<'a>(obj: &'a Bound<'_, PyAny>, code: Code) -> PyResult<Cow<'a, [u8]>> {
    let py = obj.py();
    if let Ok(s) = obj.cast::<PyString>() {
        return match s.to_str() {
            Ok(text) => Ok(Cow::Borrowed(text.as_bytes())),
            // A str holding lone surrogates has no UTF-8 form; its surrogatepass bytes are
            // invalid UTF-8, which the reader refuses as such.
            Err(_) => Ok(Cow::Owned(
                s.call_method1("encode", ("utf-8", "surrogatepass"))?.cast_into::<PyBytes>()?.as_bytes().to_vec(),
            )),
        };
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(Cow::Borrowed(b.as_bytes()));
    }
    if obj.is_instance_of::<PyByteArray>() || obj.is_instance_of::<PyMemoryView>() {
        let copy = py.import("builtins")?.getattr("bytes")?.call1((obj,))?;
        return Ok(Cow::Owned(copy.cast_into::<PyBytes>()?.as_bytes().to_vec()));
    }
    let kw = PyDict::new(py);
    kw.set_item("allow_nan", true)?;
    kw.set_item("ensure_ascii", true)?;
    match py.import("json")?.call_method("dumps", (obj,), Some(&kw)) {
        Ok(text) => Ok(Cow::Owned(text.cast_into::<PyString>()?.to_str()?.as_bytes().to_vec())),
        Err(err) => {
            let why = err.value(py).str().map(|s| s.to_string()).unwrap_or_default();
            Err(bad(code, "type", "", format!("The value is not JSON: {why}.")))
        }
    }
}

fn vocab_or_core(catalog: Option<&CoreCatalog>) -> &Vocabulary {
    match catalog {
        Some(c) => c.vocab(),
        None => core_vocab(),
    }
}

fn vocab_of(fields: Option<&Bound<'_, Catalog>>) -> Option<Arc<CoreCatalog>> {
    fields.map(|c| c.get().inner.clone())
}

/// A JSON value as Python objects. Integral numbers within ±2^53 become `int`, the rest `float`.
/// Recursion is bounded by the reader's depth limits.
fn to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(x) => number_to_py(py, *x)?,
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(members) => {
            let dict = PyDict::new(py);
            for (k, v) in members {
                dict.set_item(k, to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

fn number_to_py(py: Python<'_>, x: f64) -> PyResult<Bound<'_, PyAny>> {
    Ok(if x.fract() == 0.0 && x.abs() <= 9_007_199_254_740_992.0 {
        (x as i64).into_pyobject(py)?.into_any()
    } else {
        x.into_pyobject(py)?.into_any()
    })
}

fn parse_request_value(py: Python<'_>, bytes: &[u8]) -> PyResult<Value> {
    detach_if(py, bytes.len() >= DETACH_BYTES, || json::parse(bytes, Limits::REQUEST, Code::InvalidRequest))
        .map_err(to_py_err)
}

fn requirements_arg(py: Python<'_>, requirements: Option<&Bound<'_, PyAny>>) -> PyResult<Requirements> {
    let Some(obj) = requirements.filter(|o| !o.is_none()) else {
        return Ok(Requirements::default());
    };
    if let Ok(dict) = obj.cast::<PyDict>() {
        if let Some(req) = requirements_from_dict(dict) {
            return Ok(req);
        }
    }
    let bytes = json_input(obj, Code::InvalidRequest)?;
    let value = parse_request_value(py, &bytes)?;
    Requirements::from_value(&value).map_err(to_py_err)
}

/// Requirements read straight from a dict when every member is well-formed; None sends anything
/// else (an unknown member, a wrong type, a huge int) the JSON way, whose errors are the contract.
fn requirements_from_dict(dict: &Bound<'_, PyDict>) -> Option<Requirements> {
    fn flag(v: &Bound<'_, PyAny>) -> Option<bool> {
        if v.is_none() {
            return Some(false);
        }
        v.cast::<PyBool>().ok().map(|b| b.is_true())
    }
    fn count(v: &Bound<'_, PyAny>) -> Option<Option<u64>> {
        const MAX_EXACT: u64 = 1 << 53;
        if v.is_none() {
            return Some(None);
        }
        if v.is_instance_of::<PyBool>() {
            return None;
        }
        if let Ok(n) = v.cast::<PyInt>() {
            return n.extract::<u64>().ok().filter(|&n| n <= MAX_EXACT).map(Some);
        }
        let x = v.cast::<PyFloat>().ok()?.value();
        (x.fract() == 0.0 && (0.0..=MAX_EXACT as f64).contains(&x)).then_some(Some(x as u64))
    }
    let mut req = Requirements::default();
    for (key, value) in dict.iter() {
        match key.cast::<PyString>().ok()?.to_str().ok()? {
            "tools" => req.tools = flag(&value)?,
            "vision" => req.vision = flag(&value)?,
            "json" => req.json = flag(&value)?,
            "prompt_tokens" => req.prompt_tokens = count(&value)?.unwrap_or(0),
            "max_tokens" => req.max_tokens = count(&value)?,
            _ => return None,
        }
    }
    Some(req)
}

fn seed_arg(seed: Option<&Bound<'_, PyAny>>) -> PyResult<Option<u64>> {
    let Some(obj) = seed.filter(|o| !o.is_none()) else { return Ok(None) };
    let valid = if obj.is_instance_of::<PyBool>() { None } else { obj.extract::<u64>().ok() };
    match valid {
        Some(s) if s < SEED_LIMIT => Ok(Some(s)),
        _ => Err(bad(
            Code::InvalidRequest,
            "type",
            "",
            format!(
                "The seed must be an integer from 0 to 2^53 - 1, got {}.",
                obj.repr().map(|r| r.to_string()).unwrap_or_default()
            ),
        )),
    }
}

fn status_arg(status: Option<&str>) -> PyResult<Option<Status>> {
    match status {
        None => Ok(None),
        Some(s) => Status::parse(s).map(Some).ok_or_else(|| {
            PyValueError::new_err(format!("status must be 'winner', 'passed' or 'rejected', got {s:?}"))
        }),
    }
}

// -- Policy -------------------------------------------------------------------------------------------

/// An admitted sigma-pol/v1 policy: its canonical form, fingerprint and evaluation tree.
#[pyclass(frozen, module = "unhardcoded")]
struct Policy {
    inner: Arc<AdmittedPolicy>,
}

#[pymethods]
impl Policy {
    /// Strict-parse and admit a policy (JSON text, or the term as Python lists and dicts).
    #[staticmethod]
    #[pyo3(signature = (text, *, fields = None))]
    fn admit(py: Python<'_>, text: &Bound<'_, PyAny>, fields: Option<&Bound<'_, Catalog>>) -> PyResult<Policy> {
        let bytes = json_input(text, Code::InvalidPolicy)?;
        let catalog = vocab_of(fields);
        let admit = || policy::admit_text(&bytes, vocab_or_core(catalog.as_deref()));
        let admitted = detach_if(py, bytes.len() >= DETACH_BYTES, admit);
        admitted.map(|p| Policy { inner: Arc::new(p) }).map_err(to_py_err)
    }

    #[getter]
    fn canonical(&self) -> &str {
        &self.inner.canonical
    }

    #[getter]
    fn fingerprint(&self) -> &str {
        &self.inner.fingerprint
    }

    #[getter]
    fn version(&self) -> &'static str {
        VERSION
    }

    fn to_json(&self) -> &str {
        &self.inner.canonical
    }

    /// Apply the mutate slot to a chat request; returns the request as (canonical) JSON text.
    fn mutate_request(&self, py: Python<'_>, request_json: &Bound<'_, PyAny>) -> PyResult<String> {
        let bytes = json_input(request_json, Code::InvalidRequest)?;
        let inner = self.inner.clone();
        detach_if(py, bytes.len() >= DETACH_BYTES, || {
            let mut request = json::parse(&bytes, Limits::REQUEST, Code::InvalidRequest)?;
            mutate::apply(&inner.ast.mutate, &mut request);
            Ok(to_jcs(&request))
        })
        .map_err(to_py_err)
    }

    /// Evaluate over `catalog` (GIL released for catalogs of DETACH_MODELS or more). Raises NoCandidates when the cascade is empty.
    #[pyo3(signature = (catalog, *, requirements = None, seed = None, providers = None))]
    fn rank(
        &self,
        py: Python<'_>,
        catalog: &Bound<'_, Catalog>,
        requirements: Option<&Bound<'_, PyAny>>,
        seed: Option<&Bound<'_, PyAny>>,
        providers: Option<Vec<String>>,
    ) -> PyResult<RankResult> {
        let req = requirements_arg(py, requirements)?;
        let seed = seed_arg(seed)?;
        let policy = self.inner.clone();
        let cat = catalog.get().inner.clone();
        let heavy = cat.len() >= DETACH_MODELS;
        let outcome = detach_if(py, heavy, || eval::evaluate(&policy.ast, &cat, &req, seed, providers.as_deref()));
        let failure = outcome.no_candidates();
        let result = RankResult { policy, catalog: cat, ids: catalog.get().ids.clone(), outcome: Arc::new(outcome) };
        match failure {
            None => Ok(result),
            Some(e) => {
                let obj = Py::new(py, result)?.into_any();
                Err(raise_as(py, &NO_CANDIDATES, &e, Some(("result", obj))))
            }
        }
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<Policy>().is_ok_and(|o| o.get().inner.fingerprint == self.inner.fingerprint)
    }

    fn __hash__(&self) -> u64 {
        // The fingerprint is already a uniform hash; its first 16 hex digits are plenty.
        u64::from_str_radix(self.inner.fingerprint.get(4..20).unwrap_or("0"), 16).unwrap_or(0)
    }

    fn __repr__(&self) -> String {
        format!("Policy({})", self.inner.fingerprint)
    }
}

// -- RankResult ---------------------------------------------------------------------------------------

/// The catalog's model ids as Python strings, made at most once per catalog and shared by every
/// result over it: a million-model cascade is then a list of existing objects, not of new ones.
type PyIds = PyOnceLock<Vec<Py<PyString>>>;

fn py_ids<'a>(py: Python<'_>, catalog: &CoreCatalog, cache: &'a PyIds) -> &'a [Py<PyString>] {
    cache.get_or_init(py, || catalog.ids().iter().map(|id| PyString::new(py, id).unbind()).collect())
}

/// How many items ahead `shared_id_list` prefetches what it will read.
const PREFETCH_AHEAD: usize = 64;

/// The list `[ids[m] for m in models]`, or None when `models` repeats a model, names one past
/// `ids`, or is too short for this to pay (the caller then builds it item by item).
///
/// Each item holds a new reference to a shared string, and a cascade lists models in score order,
/// which is random in memory: taking the references item by item misses the cache (and the TLB)
/// on nearly every string, ~10 ms for the 244k-item cascade of the million-model bench. The
/// references are interchangeable, so they are taken first in model order — the strings' memory
/// order — and the list is then filled in cascade order with pointers alone. Both passes
/// prefetch a few dozen items ahead so their remaining misses overlap.
fn shared_id_list<'py>(py: Python<'py>, ids: &[Py<PyString>], models: &[u32]) -> Option<PyResult<Bound<'py, PyList>>> {
    // Below about one item per 64 models (`head(5)` of a big catalog), the bitset over the
    // catalog costs more than the misses it saves.
    if models.len().saturating_mul(64) < ids.len() {
        return None;
    }
    let mut listed = vec![0u64; ids.len().div_ceil(64)];
    for &m in models {
        let word = listed.get_mut(m as usize / 64).filter(|_| (m as usize) < ids.len())?;
        let bit = 1u64 << (m % 64);
        if *word & bit != 0 {
            return None;
        }
        *word |= bit;
    }
    let len = isize::try_from(models.len()).ok()?;
    // SAFETY: PyList_New returns a new reference (or NULL with an exception set), which
    // `from_owned_ptr_or_err` takes over; its items start NULL.
    let list = match unsafe { Bound::from_owned_ptr_or_err(py, pyo3::ffi::PyList_New(len)) } {
        Ok(list) => list,
        Err(e) => return Some(Err(e)),
    };
    // One new reference per item, in model order; each is handed to the list below. Nothing
    // between here and the last store can fail, so none is left over.
    let mut ahead = SetBits::new(&listed);
    for _ in 0..PREFETCH_AHEAD {
        ahead.next();
    }
    for m in SetBits::new(&listed) {
        if let Some(later) = ahead.next().and_then(|a| ids.get(a)) {
            prefetch(later.as_ptr().cast_const());
        }
        if let Some(id) = ids.get(m) {
            let _owed_to_the_list = id.clone_ref(py).into_ptr();
        }
    }
    for (k, &m) in models.iter().enumerate() {
        if let Some(later) = models.get(k + PREFETCH_AHEAD).and_then(|&a| ids.get(a as usize)) {
            prefetch(std::ptr::from_ref(later));
        }
        // Every `m` is in range: checked above.
        if let Some(id) = ids.get(m as usize) {
            // SAFETY: `list` is a new list of `len` items and `k < len`; PyList_SetItem steals
            // the reference taken for this item above (the slot it replaces is NULL).
            unsafe { pyo3::ffi::PyList_SetItem(list.as_ptr(), k as isize, id.as_ptr()) };
        }
    }
    // SAFETY: PyList_New made a list.
    Some(Ok(unsafe { list.cast_into_unchecked::<PyList>() }))
}

/// The set bits of a bitset, ascending.
struct SetBits<'a> {
    words: &'a [u64],
    at: usize,
    word: u64,
}

impl<'a> SetBits<'a> {
    fn new(words: &'a [u64]) -> SetBits<'a> {
        SetBits { words, at: 0, word: words.first().copied().unwrap_or(0) }
    }
}

impl Iterator for SetBits<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        while self.word == 0 {
            self.at += 1;
            self.word = *self.words.get(self.at)?;
        }
        let bit = self.word.trailing_zeros() as usize;
        self.word &= self.word - 1;
        Some(self.at * 64 + bit)
    }
}

/// Asks the CPU for the cache line at `p` ahead of its use.
#[inline(always)]
fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint; it never faults, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast())
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// The outcome of one evaluation: winner, cascade, seed, and one verdict per catalog model.
#[pyclass(frozen, module = "unhardcoded")]
struct RankResult {
    policy: Arc<AdmittedPolicy>,
    catalog: Arc<CoreCatalog>,
    ids: Arc<PyIds>,
    outcome: Arc<Outcome>,
}

impl RankResult {
    fn id(&self, index: u32) -> &str {
        self.catalog.id(index as usize).unwrap_or_default()
    }

    fn id_object<'py>(&self, py: Python<'py>, index: usize) -> Bound<'py, PyString> {
        match self.ids.get(py).and_then(|ids| ids.get(index)) {
            Some(id) => id.bind(py).clone(),
            None => PyString::new(py, self.catalog.id(index).unwrap_or_default()),
        }
    }

    /// The ids of `models` as a list: of the shared strings when they exist or are worth making (a
    /// small catalog, or a list that is a fair part of the catalog), of fresh ones for a short
    /// list over a big catalog, so `head(5)` never makes a million strings.
    fn id_list<'py>(&self, py: Python<'py>, models: &[u32]) -> PyResult<Bound<'py, PyList>> {
        const SMALL_CATALOG: usize = 4096;
        let worth = self.catalog.len() <= SMALL_CATALOG || models.len().saturating_mul(8) >= self.catalog.len();
        let shared = match self.ids.get(py) {
            Some(ids) => Some(ids.as_slice()),
            None if worth => Some(py_ids(py, &self.catalog, &self.ids)),
            None => None,
        };
        if let Some(list) = shared.and_then(|ids| shared_id_list(py, ids, models)) {
            return list;
        }
        match shared {
            Some(ids) => PyList::new(
                py,
                models.iter().map(|&m| match ids.get(m as usize) {
                    Some(id) => id.bind(py).clone(),
                    None => PyString::new(py, self.id(m)),
                }),
            ),
            None => PyList::new(py, models.iter().map(|&m| PyString::new(py, self.id(m)))),
        }
    }
}

/// Visits the verdicts of a page in catalog order: `(model index, status, survivor)`, where a
/// survivor passed the filter (it has a score and, unless a top_k cut it, a rank). `offset` and
/// `limit` count after the status filter.
fn walk_page<E>(
    outcome: &Outcome,
    offset: usize,
    limit: Option<usize>,
    status: Option<Status>,
    mut visit: impl FnMut(usize, Status, bool) -> Result<(), E>,
) -> Result<(), E> {
    let (mut skip, mut take) = (offset, limit.unwrap_or(usize::MAX));
    let survivors = outcome.survivors();
    // Survivors ascend, so one cursor walks them alongside the models.
    let mut next = 0usize;
    for index in 0..outcome.len() {
        if take == 0 {
            break;
        }
        let survivor = survivors.get(next).is_some_and(|&s| s as usize == index);
        let found = if survivor {
            next += 1;
            outcome.status(index).unwrap_or(Status::Rejected)
        } else {
            Status::Rejected
        };
        if status.is_some_and(|s| s != found) {
            continue;
        }
        if skip > 0 {
            skip -= 1;
            continue;
        }
        take -= 1;
        visit(index, found, survivor)?;
    }
    Ok(())
}

/// Appends one verdict (spec §5.4) as JCS text: members in JCS order, the blamed sub-term copied
/// from the policy's node table, which already holds it in canonical form.
fn write_verdict(out: &mut String, r: &RankResult, index: usize, status: Status, survivor: bool) {
    let outcome = &r.outcome;
    out.push_str(r#"{"dropped_by":"#);
    match (status, outcome.blame(index)) {
        (Status::Rejected, Some(BLAME_HOST_FLOOR)) => {
            out.push_str(r#"{"path":"","reason":"#);
            let provider = r.catalog.provider(index).unwrap_or_default();
            write_string(&format!("provider {provider} is not configured"), out);
            out.push_str(r#","term":"host_floor"}"#);
        }
        (Status::Rejected, Some(node)) => {
            let info = r.policy.ast.node(node);
            out.push_str(r#"{"path":"#);
            match info {
                Some(info) => write_string(info.path, out),
                None => out.push_str("null"),
            }
            if let Some(reason) = outcome.reason(index) {
                out.push_str(r#","reason":"#);
                write_string(reason, out);
            }
            out.push_str(r#","term":"#);
            out.push_str(info.map_or("null", |i| i.term));
            out.push('}');
        }
        _ => out.push_str("null"),
    }
    out.push_str(r#","model":"#);
    write_string(r.catalog.id(index).unwrap_or_default(), out);
    out.push_str(r#","rank":"#);
    match outcome.rank(index).filter(|_| survivor) {
        Some(rank) => out.push_str(&rank.to_string()),
        None => out.push_str("null"),
    }
    out.push_str(r#","score":"#);
    match outcome.score(index).filter(|_| survivor) {
        Some(score) => write_jcs(&Value::Number(score), out),
        None => out.push_str("null"),
    }
    out.push_str(r#","status":""#);
    out.push_str(status.as_str());
    out.push_str("\"}");
}

/// Bytes to reserve per verdict of a page (a typical rejected verdict is about this long); the
/// text grows past the first few thousand as needed.
const RESERVE_VERDICTS: usize = 160;

fn verdicts_text(r: &RankResult, offset: usize, limit: Option<usize>, status: Option<Status>, out: &mut String) {
    out.push('[');
    let mut first = true;
    let _ = walk_page(&r.outcome, offset, limit, status, |index, found, survivor| -> Result<(), ()> {
        if !first {
            out.push(',');
        }
        first = false;
        write_verdict(out, r, index, found, survivor);
        Ok(())
    });
    out.push(']');
}

/// Blamed nodes as Python objects, made once per call rather than per verdict: the path string is
/// shared (strings are immutable), the term is parsed once and copied per verdict so no two
/// verdicts share a list a caller might mutate.
struct Blamed<'py, 'a> {
    py: Python<'py>,
    policy: &'a ast::Policy,
    made: Vec<Option<(Bound<'py, PyAny>, Bound<'py, PyAny>)>>,
}

impl<'py> Blamed<'py, '_> {
    /// `(path, term)` of a node; a node missing from the table gives `(None, None)`.
    fn node(&mut self, node: u32) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        let py = self.py;
        let Some(info) = self.policy.node(node) else {
            return Ok((py.None().into_bound(py), py.None().into_bound(py)));
        };
        let Some(slot) = self.made.get_mut(node as usize) else {
            return Ok((PyString::new(py, info.path).into_any(), term_to_py(py, info.term)?));
        };
        let (path, term) = match slot {
            Some(made) => made,
            None => slot.insert((PyString::new(py, info.path).into_any(), term_to_py(py, info.term)?)),
        };
        Ok((path.clone(), fresh_copy(term)?))
    }
}

/// A node table term (canonical text, which always reads back) as Python objects.
fn term_to_py<'py>(py: Python<'py>, term: &str) -> PyResult<Bound<'py, PyAny>> {
    match json::parse(term.as_bytes(), Limits::POLICY, Code::InvalidPolicy) {
        Ok(value) => to_py(py, &value),
        Err(_) => Ok(PyString::new(py, term).into_any()),
    }
}

/// A copy of a JSON-shaped Python value with new lists and dicts; the immutable leaves (str,
/// int, float, bool, None) are shared, which is what makes it cheaper than building anew.
fn fresh_copy<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = obj.py();
    if let Ok(list) = obj.cast::<PyList>() {
        return Ok(PyList::new(py, list.iter().map(|item| fresh_copy(&item)).collect::<PyResult<Vec<_>>>()?)?.into_any());
    }
    if let Ok(dict) = obj.cast::<PyDict>() {
        let copy = PyDict::new(py);
        for (k, v) in dict.iter() {
            copy.set_item(k, fresh_copy(&v)?)?;
        }
        return Ok(copy.into_any());
    }
    Ok(obj.clone())
}

#[pymethods]
impl RankResult {
    #[getter]
    fn winner<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyString>> {
        self.outcome.cascade.first().map(|&m| self.id_object(py, m as usize))
    }

    #[getter]
    fn seed(&self) -> Option<u64> {
        self.outcome.seed
    }

    /// The failover order (a new list on every access, of strings shared with the catalog).
    #[getter]
    fn cascade<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.id_list(py, &self.outcome.cascade)
    }

    /// The first `n` ids of the cascade (fewer when it is shorter).
    fn head<'py>(&self, py: Python<'py>, n: usize) -> PyResult<Bound<'py, PyList>> {
        let cascade = &self.outcome.cascade;
        self.id_list(py, cascade.get(..n.min(cascade.len())).unwrap_or_default())
    }

    fn __len__(&self) -> usize {
        self.outcome.len()
    }

    fn counts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let c = self.outcome.counts();
        let d = PyDict::new(py);
        d.set_item("winner", c.winner)?;
        d.set_item("passed", c.passed)?;
        d.set_item("rejected", c.rejected)?;
        Ok(d)
    }

    /// A page of verdicts in catalog order, optionally only one status (`offset`/`limit` count
    /// after the status filter).
    #[pyo3(signature = (offset = 0, limit = None, status = None))]
    fn verdicts<'py>(
        &self,
        py: Python<'py>,
        offset: usize,
        limit: Option<usize>,
        status: Option<&str>,
    ) -> PyResult<Bound<'py, PyList>> {
        let status = status_arg(status)?;
        let (k_model, k_status, k_dropped, k_score, k_rank) = (
            pyo3::intern!(py, "model"),
            pyo3::intern!(py, "status"),
            pyo3::intern!(py, "dropped_by"),
            pyo3::intern!(py, "score"),
            pyo3::intern!(py, "rank"),
        );
        let (k_path, k_term, k_reason) = (pyo3::intern!(py, "path"), pyo3::intern!(py, "term"), pyo3::intern!(py, "reason"));
        let names = [
            (Status::Winner, pyo3::intern!(py, "winner")),
            (Status::Passed, pyo3::intern!(py, "passed")),
            (Status::Rejected, pyo3::intern!(py, "rejected")),
        ];
        let mut blamed = Blamed { py, policy: &self.policy.ast, made: vec![None; self.policy.ast.nodes.len()] };
        let outcome = &self.outcome;
        let list = PyList::empty(py);
        walk_page(outcome, offset, limit, status, |index, found, survivor| -> PyResult<()> {
            let d = PyDict::new(py);
            d.set_item(k_model, self.id_object(py, index))?;
            d.set_item(k_status, names.iter().find(|(s, _)| *s == found).map(|(_, name)| *name))?;
            let dropped_by = match (found, outcome.blame(index)) {
                (Status::Rejected, Some(BLAME_HOST_FLOOR)) => {
                    let by = PyDict::new(py);
                    by.set_item(k_path, "")?;
                    by.set_item(k_term, "host_floor")?;
                    let provider = self.catalog.provider(index).unwrap_or_default();
                    by.set_item(k_reason, format!("provider {provider} is not configured"))?;
                    by.into_any()
                }
                (Status::Rejected, Some(node)) => {
                    let by = PyDict::new(py);
                    let (path, term) = blamed.node(node)?;
                    by.set_item(k_path, path)?;
                    by.set_item(k_term, term)?;
                    if let Some(reason) = outcome.reason(index) {
                        by.set_item(k_reason, reason)?;
                    }
                    by.into_any()
                }
                _ => py.None().into_bound(py),
            };
            d.set_item(k_dropped, dropped_by)?;
            match outcome.score(index).filter(|_| survivor) {
                Some(score) => d.set_item(k_score, number_to_py(py, score)?)?,
                None => d.set_item(k_score, py.None())?,
            }
            d.set_item(k_rank, outcome.rank(index).filter(|_| survivor))?;
            list.append(d)
        })?;
        Ok(list)
    }

    /// Like `verdicts`, as JSON text (written with the GIL released).
    #[pyo3(signature = (offset = 0, limit = None, status = None))]
    fn verdicts_json(
        &self,
        py: Python<'_>,
        offset: usize,
        limit: Option<usize>,
        status: Option<&str>,
    ) -> PyResult<String> {
        let status = status_arg(status)?;
        let heavy = limit.unwrap_or(usize::MAX).min(self.outcome.len()) >= DETACH_MODELS / 16;
        Ok(detach_if(py, heavy, || {
            let mut out = String::with_capacity(RESERVE_VERDICTS * limit.unwrap_or(usize::MAX).min(self.outcome.len()).min(4096));
            verdicts_text(self, offset, limit, status, &mut out);
            out
        }))
    }

    /// The whole result object (spec §5.4) as JSON text (JCS member order).
    fn to_json(&self, py: Python<'_>) -> String {
        detach_if(py, self.outcome.len() >= DETACH_MODELS / 16, || {
            let outcome = &self.outcome;
            let mut out = String::with_capacity(64 + RESERVE_VERDICTS * outcome.len().min(4096));
            out.push_str(r#"{"cascade":["#);
            for (k, &m) in outcome.cascade.iter().enumerate() {
                if k > 0 {
                    out.push(',');
                }
                write_string(self.id(m), &mut out);
            }
            out.push_str(r#"],"seed":"#);
            match outcome.seed {
                Some(seed) => out.push_str(&seed.to_string()),
                None => out.push_str("null"),
            }
            out.push_str(r#","verdicts":"#);
            verdicts_text(self, 0, None, None, &mut out);
            out.push_str(r#","winner":"#);
            match outcome.cascade.first() {
                Some(&m) => write_string(self.id(m), &mut out),
                None => out.push_str("null"),
            }
            out.push('}');
            out
        })
    }

    fn __repr__(&self) -> String {
        let winner = self.outcome.cascade.first().map_or_else(|| "None".to_string(), |&m| format!("{:?}", self.id(m)));
        format!(
            "RankResult(winner={winner}, cascade={} models, verdicts={})",
            self.outcome.cascade.len(),
            self.outcome.len()
        )
    }
}

// -- Flow ---------------------------------------------------------------------------------------------

/// An admitted flow_ir workflow: canonical form, fingerprint, execution order and node policies.
#[pyclass(frozen, module = "unhardcoded")]
struct Flow {
    inner: Arc<AdmittedFlow>,
    /// Node policies shared once, so `node_policy` hands out the same `Arc` on every call.
    policies: Vec<(String, Arc<AdmittedPolicy>)>,
}

impl Flow {
    fn new(admitted: AdmittedFlow) -> Flow {
        let policies = admitted
            .nodes
            .iter()
            .filter_map(|n| n.policy.as_ref().map(|p| (n.id.clone(), Arc::new(p.clone()))))
            .collect();
        Flow { inner: Arc::new(admitted), policies }
    }

    fn find(&self, node_id: &str) -> PyResult<&flow::FlowNode> {
        self.inner.node(node_id).ok_or_else(|| pyo3::exceptions::PyKeyError::new_err(node_id.to_string()))
    }
}

#[pymethods]
impl Flow {
    #[staticmethod]
    #[pyo3(signature = (text, *, fields = None))]
    fn admit(py: Python<'_>, text: &Bound<'_, PyAny>, fields: Option<&Bound<'_, Catalog>>) -> PyResult<Flow> {
        let bytes = json_input(text, Code::InvalidFlow)?;
        let catalog = vocab_of(fields);
        let admitted = detach_if(py, bytes.len() >= DETACH_BYTES, || {
            let vocab = vocab_or_core(catalog.as_deref());
            flow::admit_flow_text(&bytes, vocab)
        });
        admitted.map(Flow::new).map_err(to_py_err)
    }

    #[getter]
    fn canonical(&self) -> &str {
        &self.inner.canonical
    }

    #[getter]
    fn fingerprint(&self) -> &str {
        &self.inner.fingerprint
    }

    #[getter]
    fn version(&self) -> &'static str {
        FLOW_VERSION
    }

    fn to_json(&self) -> &str {
        &self.inner.canonical
    }

    /// Node ids in execution order (spec §6).
    fn order(&self) -> Vec<String> {
        self.inner.order.clone()
    }

    /// `{"id", "kind", "inputs", "system", "template"}` of one node.
    fn node<'py>(&self, py: Python<'py>, node_id: &str) -> PyResult<Bound<'py, PyDict>> {
        let node = self.find(node_id)?;
        let d = PyDict::new(py);
        d.set_item("id", &node.id)?;
        d.set_item("kind", node.kind.as_str())?;
        d.set_item("inputs", &node.inputs)?;
        d.set_item("system", node.system.as_deref())?;
        d.set_item("template", node.template.as_deref())?;
        Ok(d)
    }

    /// The admitted policy of an llm node (KeyError for an unknown id, ValueError for a node
    /// without a policy).
    fn node_policy(&self, node_id: &str) -> PyResult<Policy> {
        self.find(node_id)?;
        self.policies
            .iter()
            .find(|(id, _)| id == node_id)
            .map(|(_, p)| Policy { inner: p.clone() })
            .ok_or_else(|| PyValueError::new_err(format!("node {node_id:?} is not an llm node and has no policy")))
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<Flow>().is_ok_and(|o| o.get().inner.fingerprint == self.inner.fingerprint)
    }

    fn __hash__(&self) -> u64 {
        u64::from_str_radix(self.inner.fingerprint.get(5..21).unwrap_or("0"), 16).unwrap_or(0)
    }

    fn __repr__(&self) -> String {
        format!("Flow({}, {} nodes)", self.inner.fingerprint, self.inner.nodes.len())
    }
}

// -- Catalog ------------------------------------------------------------------------------------------

/// A validated model catalog (spec §7), stored column by column.
#[pyclass(frozen, module = "unhardcoded")]
struct Catalog {
    inner: Arc<CoreCatalog>,
    ids: Arc<PyIds>,
}

impl Catalog {
    fn new(catalog: CoreCatalog) -> Catalog {
        Catalog { inner: Arc::new(catalog), ids: Arc::new(PyOnceLock::new()) }
    }
}

#[pymethods]
impl Catalog {
    /// Strict-parse and validate a catalog document (JSON text or a dict).
    #[staticmethod]
    fn from_json(py: Python<'_>, text: &Bound<'_, PyAny>) -> PyResult<Catalog> {
        let bytes = json_input(text, Code::InvalidCatalog)?;
        py.detach(|| CoreCatalog::from_json(&bytes)).map(Catalog::new).map_err(to_py_err)
    }

    /// Read and validate a catalog file (OSError when it cannot be read).
    #[staticmethod]
    fn load(py: Python<'_>, path: std::path::PathBuf) -> PyResult<Catalog> {
        let bytes = py.detach(|| std::fs::read(&path))?;
        py.detach(|| CoreCatalog::from_json(&bytes)).map(Catalog::new).map_err(to_py_err)
    }

    #[getter]
    fn fingerprint(&self) -> &str {
        self.inner.fingerprint()
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __contains__(&self, model_id: &str) -> bool {
        self.inner.index_of(model_id).is_some()
    }

    /// Model ids in catalog order (ascending UTF-8 bytes).
    fn ids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, py_ids(py, &self.inner, &self.ids).iter().map(|id| id.bind(py)))
    }

    /// One model's present fields and `meta`, or None.
    fn model<'py>(&self, py: Python<'py>, model_id: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
        match self.inner.index_of(model_id).and_then(|i| self.inner.model_value(i)) {
            Some(v) => to_py(py, &v).map(Some),
            None => Ok(None),
        }
    }

    /// The field vocabulary: core fields, then the catalog's extensions.
    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for f in self.inner.vocab().fields() {
            let d = PyDict::new(py);
            d.set_item("name", &f.name)?;
            d.set_item("kind", f.kind.as_str())?;
            d.set_item("description", &f.description)?;
            d.set_item("core", f.core)?;
            list.append(d)?;
        }
        Ok(list)
    }

    fn capabilities(&self) -> Vec<String> {
        self.inner.vocab().capabilities().to_vec()
    }

    /// The canonical catalog document: the text the fingerprint hashes.
    fn to_json(&self, py: Python<'_>) -> String {
        py.detach(|| self.inner.to_canonical())
    }

    fn __repr__(&self) -> String {
        format!("Catalog({}, {} models)", self.inner.fingerprint(), self.inner.len())
    }
}

// -- functions ----------------------------------------------------------------------------------------

/// The implied requirements (spec §4) of a chat request.
#[pyfunction]
fn requirements_from_request<'py>(py: Python<'py>, request_json: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let bytes = json_input(request_json, Code::InvalidRequest)?;
    let value = parse_request_value(py, &bytes)?;
    to_py(py, &Requirements::from_request(&value).to_value())
}

/// JCS (RFC 8785) form of any strict JSON text.
#[pyfunction]
fn canonicalize(py: Python<'_>, text: &Bound<'_, PyAny>) -> PyResult<String> {
    let bytes = json_input(text, Code::InvalidRequest)?;
    let canonical = || canonical::canonicalize(&bytes, Limits::REQUEST, Code::InvalidRequest);
    detach_if(py, bytes.len() >= DETACH_BYTES, canonical).map_err(to_py_err)
}

/// `prefix` + BLAKE3 hex of the canonical form of any strict JSON text.
#[pyfunction]
#[pyo3(signature = (text, prefix = ""))]
fn fingerprint(py: Python<'_>, text: &Bound<'_, PyAny>, prefix: &str) -> PyResult<String> {
    let bytes = json_input(text, Code::InvalidRequest)?;
    let fingerprint = || {
        canonical::canonicalize(&bytes, Limits::REQUEST, Code::InvalidRequest)
            .map(|text| blake3_fingerprint(prefix, text.as_bytes()))
    };
    detach_if(py, bytes.len() >= DETACH_BYTES, fingerprint).map_err(to_py_err)
}

enum Routed {
    Policy(Arc<AdmittedPolicy>),
    Flow(AdmittedFlow),
    None,
}

/// Strict-parse a chat request body and admit its `policy_ir` or `flow_ir`.
#[pyfunction]
#[pyo3(signature = (body, *, fields = None))]
fn parse_request<'py>(
    py: Python<'py>,
    body: &Bound<'py, PyAny>,
    fields: Option<&Bound<'py, Catalog>>,
) -> PyResult<Bound<'py, PyTuple>> {
    let bytes = json_input(body, Code::InvalidRequest)?;
    let catalog = vocab_of(fields);
    let (routed, requirements) =
        detach_if(py, bytes.len() >= DETACH_BYTES, || -> Result<(Routed, Requirements), Error> {
            let vocab = vocab_or_core(catalog.as_deref());
            let mut request = json::parse(&bytes, Limits::REQUEST, Code::InvalidRequest)?;
            let Value::Object(members) = &mut request else {
                return Err(Error::new(
                    Code::InvalidRequest,
                    "type",
                    "",
                    format!("A chat request is a JSON object, got {}.", request.type_name()),
                ));
            };
            let mut take = |name: &str| members.iter().position(|(k, _)| k == name).map(|i| members.remove(i).1);
            let routed = match (take("policy_ir"), take("flow_ir")) {
                (Some(_), Some(_)) => {
                    return Err(Error::new(
                        Code::InvalidRequest,
                        "type",
                        "/flow_ir",
                        "A request carries either policy_ir or flow_ir, not both.",
                    ))
                }
                (Some(term), None) => {
                    let p = policy::cache::admit_cached(term, catalog.as_ref(), core_vocab())
                        .map_err(|e| e.prefixed("/policy_ir"))?;
                    mutate::apply(&p.ast.mutate, &mut request);
                    Routed::Policy(p)
                }
                (None, Some(term)) => {
                    Routed::Flow(flow::admit_flow_value(term, vocab).map_err(|e| e.prefixed("/flow_ir"))?)
                }
                (None, None) => Routed::None,
            };
            Ok((routed, Requirements::from_request(&request)))
        })
        .map_err(to_py_err)?;
    let reqs = to_py(py, &requirements.to_value())?;
    let (kind, term) = match routed {
        Routed::Policy(p) => ("policy", Py::new(py, Policy { inner: p })?.into_any()),
        Routed::Flow(f) => ("flow", Py::new(py, Flow::new(f))?.into_any()),
        Routed::None => ("none", py.None()),
    };
    PyTuple::new(py, [kind.into_pyobject(py)?.into_any(), term.into_bound(py), reqs])
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let errors = PyModule::from_code(py, ERRORS_PY, c"unhardcoded/_errors.py", c"unhardcoded._errors")?;
    let base = errors.getattr("UnhardcodedError")?.cast_into::<PyType>()?;
    let none = errors.getattr("NoCandidates")?.cast_into::<PyType>()?;
    UNHARDCODED_ERROR.get_or_init(py, || base.clone().unbind());
    NO_CANDIDATES.get_or_init(py, || none.clone().unbind());
    m.add("UnhardcodedError", base)?;
    m.add("NoCandidates", none)?;
    m.add("VERSION", VERSION)?;
    m.add("FLOW_VERSION", FLOW_VERSION)?;
    m.add("ERROR_CODES", ERROR_CODES.to_vec())?;
    m.add("ERROR_RULES", ERROR_RULES.to_vec())?;
    m.add_class::<Policy>()?;
    m.add_class::<RankResult>()?;
    m.add_class::<Flow>()?;
    m.add_class::<Catalog>()?;
    m.add_function(wrap_pyfunction!(requirements_from_request, m)?)?;
    m.add_function(wrap_pyfunction!(canonicalize, m)?)?;
    m.add_function(wrap_pyfunction!(fingerprint, m)?)?;
    m.add_function(wrap_pyfunction!(parse_request, m)?)?;
    Ok(())
}
