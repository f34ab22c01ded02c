/* Compiled fast paths for the per-record work of `dataforge lint` (and every reader of records).
 *
 * Optional: the build compiles this file when a C compiler is there, and dataforge/speedups.py
 * falls back to the pure-Python twin of each function when it is not. Each function answers
 * only the common, clean case and returns None (or False) for anything else, so that the
 * Python code, which reports problems, decides; tests hold each function equal to its twin.
 *
 * After a change, run the tests against a build with AddressSanitizer and UBSan:
 *   gcc -shared -fPIC -O1 -g -fsanitize=address,undefined -DSOURCE_DIGEST='"<digest>"' \
 *       -I"$(python -c 'import sysconfig; print(sysconfig.get_paths()["include"])')" \
 *       dataforge/_speedups.c -o dataforge/_speedups$(python3-config --extension-suffix)
 *   ASAN_OPTIONS=detect_leaks=0 LD_PRELOAD="$(gcc -print-file-name=libasan.so) \
 *       $(gcc -print-file-name=libubsan.so)" python -m pytest tests/test_speedups.py tests/jsonio tests/lint
 * where <digest> is what dataforge/speedups.py computes for this file (else the build is refused).
 *
 * members_match(text, value, max_depth) -> bool
 *     True when the JSON `text`, already parsed into `value` by a parser that keeps the last
 *     of duplicate keys (orjson), has no duplicate keys and nests at most `max_depth` deep.
 *     In valid JSON every colon outside a string separates one object member, so the text has
 *     exactly as many members as the parsed objects hold unless a key was repeated. Also
 *     False for integers of 19 digits or more, which orjson would turn into floats.
 *
 * jsonl_records(data, index, line, record_type, unparsed) -> (records, newlines)
 *     The records of the JSON Lines in `data`, as record_type(index, line, 1, text, unparsed)
 *     numbered from `index` and `line`: lines found with memchr, trailing CRs dropped, blank
 *     lines skipped (but counted); and the number of newlines in `data`. The twin is
 *     dataforge.jsonio.stream._jsonl_records_py.
 *
 * record_spans(data, start, in_array) -> [start0, end0, start1, end1, ...]
 *     Byte spans of the objects and arrays that follow one another in `data` from `start`
 *     (separated by commas when in_array, else by whitespace only), up to the first that does
 *     not end inside `data` or anything else (a closing bracket, a scalar, a stray byte). The
 *     caller's exact Python scan takes it from there. Its slow twin is the JSON array reader
 *     in dataforge/jsonio/stream.py: both must yield the same records.
 *
 * parse_record(loads, loads_error, strict, max_depth, text) -> value
 *     loads(text) when it succeeds and members_match agrees, else strict(text): the value, or
 *     strict's error. The twin is dataforge.jsonio.parse._parse_fast (one Python frame less per
 *     record here).
 *
 * path_offset(text, steps) -> int
 *     The byte offset in one record's JSON text where the JSONPath `steps` (keys and indices)
 *     lead, or the deepest existing parent's; -1 when an escaped key is in the way (Python
 *     decodes those). The twin is dataforge.jsonio.locate._descend.
 *
 * plain_columns(messages, role_key, content_key, loss_key, roles, max_messages)
 *     -> (roles, contents, losses) | None
 *     The columns of a conversation whose messages are all plain text messages: a dict with
 *     exactly the role key, the content key and, when loss_key is not None, an optional
 *     boolean loss flag; a role found in `roles` (the format's name -> canonical role) and
 *     string content. The twin is dataforge.formats.base._plain_columns_py.
 *
 * text_features(texts, classes) -> (features, offsets)
 *     dedup's features of each text (dataforge.dedup.text_features, whose numpy code is the
 *     twin): the text lower-cased, split into words (runs of code points whose class in the
 *     65,536-byte `classes` table is 1, str.isalnum beyond it) and CJK characters (class 2;
 *     flag 4 marks a code point that str.lower changes: only texts with one are copied lowered),
 *     each word hashed as the polynomial sum(code point * P^k) + length then mixed, and each
 *     pair of consecutive words mixed into one feature (a one-word text: its word). Returned as
 *     the bytes of a uint64 array and of its n + 1 row offsets.
 *
 * low16_rows(rows, width) -> bytes
 *     The low 16 bits of every int of `rows` (lists of `width` ints: MinHash signatures read
 *     out of rensa), as the bytes of a uint16 array. The twin is numpy's fromiter.
 *
 * sort_by_high_bits(values, low_bits) -> bytes
 *     The uint64 `values` (a buffer) sorted by their bits from `low_bits` up, equal ones kept in
 *     their order: a least-significant-digit radix sort, 11 bits a pass, the GIL released. dedup
 *     groups a band's values this way, position in the low bits and already in order, which is
 *     numpy's sort of the whole values, its twin there (three to four times the time).
 *
 * chatglm3_columns(roles, paths, tool_call, observation, observation_text, conversation)
 *     -> (roles, contents, losses, paths, names, arguments, data) | None
 *     The columns of a ChatGLM3 conversation of clean text and `tool` messages (a tool message
 *     becomes a tool call row and an observation row, observations that are not strings
 *     rendered by `observation_text`). The twin is dataforge.formats.chatglm3._tool_columns_py.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#ifndef SOURCE_DIGEST
#define SOURCE_DIGEST "unknown"
#endif

/* Just after the string whose opening quote is at p; NULL when it does not end before `end`.
   memchr is vectorised, and most of a record's bytes are string content. A quote is escaped
   when an odd number of backslashes precede it. */
static inline const char *
skip_string(const char *p, const char *end)
{
    const char *q = p + 1;
    for (;;) {
        q = memchr(q, '"', (size_t)(end - q));
        if (q == NULL)
            return NULL;
        const char *b = q;
        while (b > p + 1 && b[-1] == '\\')
            b--;
        if (((q - b) & 1) == 0)
            return q + 1;
        q++;
    }
}

/* Members (colons outside strings) and the deepest nesting in valid JSON text; -1 when a
   string does not end (the text was not valid JSON after all) or an integer may not fit in
   64 bits. */
static int
scan_text(const char *p, Py_ssize_t n, Py_ssize_t *members, int *max_depth)
{
    const char *end = p + n;
    Py_ssize_t colons = 0;
    int depth = 0, deepest = 0;
    while (p < end) {
        char c = *p;
        if (c == '"') {
            p = skip_string(p, end);
            if (p == NULL)
                return -1;
            continue;
        }
        if ((c >= '0' && c <= '9') || c == '-') {
            /* orjson reads an integer beyond 64 bits as a float; leave those to jiter */
            int digits = 0, fraction = 0;
            for (; p < end; p++) {
                c = *p;
                if (c >= '0' && c <= '9')
                    digits++;
                else if (c == '.' || c == 'e' || c == 'E')
                    fraction = 1;
                else if (c != '-' && c != '+')
                    break;
            }
            if (digits >= 19 && !fraction)
                return -1;
            continue;
        }
        if (c == ':')
            colons++;
        else if (c == '{' || c == '[') {
            if (++depth > deepest)
                deepest = depth;
        }
        else if (c == '}' || c == ']')
            depth--;
        p++;
    }
    *members = colons;
    *max_depth = deepest;
    return 0;
}

/* Members of every object in a parsed value; the text scan has bounded its depth already. */
static Py_ssize_t
count_members(PyObject *value)
{
    Py_ssize_t total = 0;
    if (PyDict_CheckExact(value)) {
        Py_ssize_t pos = 0;
        PyObject *key, *item;
        total = PyDict_GET_SIZE(value);
        while (PyDict_Next(value, &pos, &key, &item)) {
            if (PyDict_CheckExact(item) || PyList_CheckExact(item))
                total += count_members(item);
        }
    }
    else if (PyList_CheckExact(value)) {
        Py_ssize_t n = PyList_GET_SIZE(value);
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *item = PyList_GET_ITEM(value, i);
            if (PyDict_CheckExact(item) || PyList_CheckExact(item))
                total += count_members(item);
        }
    }
    return total;
}

static PyObject *
members_match(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "members_match(text, value, max_depth)");
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0)
        return NULL;
    long limit = PyLong_AsLong(args[2]);
    if (limit == -1 && PyErr_Occurred()) {
        PyBuffer_Release(&view);
        return NULL;
    }
    Py_ssize_t members = 0;
    int depth = 0;
    int ok = scan_text((const char *)view.buf, view.len, &members, &depth);
    PyBuffer_Release(&view);
    if (ok < 0 || depth > limit)
        Py_RETURN_FALSE;
    return PyBool_FromLong(count_members(args[1]) == members);
}

static PyObject *
plain_columns(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError,
                        "plain_columns(messages, role_key, content_key, loss_key, roles, max_messages)");
        return NULL;
    }
    PyObject *messages = args[0], *role_key = args[1], *content_key = args[2], *loss_key = args[3];
    PyObject *names = args[4];
    if (!PyList_CheckExact(messages) || !PyDict_CheckExact(names)) {
        PyErr_SetString(PyExc_TypeError, "plain_columns needs a list of messages and a dict of roles");
        return NULL;
    }
    Py_ssize_t limit = PyLong_AsSsize_t(args[5]);
    if (limit == -1 && PyErr_Occurred())
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(messages);
    if (n > limit)
        Py_RETURN_NONE;
    int has_loss = loss_key != Py_None;
    PyObject *roles = PyTuple_New(n), *contents = PyTuple_New(n), *losses = PyTuple_New(n);
    if (roles == NULL || contents == NULL || losses == NULL)
        goto error;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *m = PyList_GET_ITEM(messages, i);
        if (!PyDict_CheckExact(m))
            goto not_plain;
        Py_ssize_t size = PyDict_GET_SIZE(m);
        PyObject *loss = NULL;
        if (has_loss) {
            loss = PyDict_GetItemWithError(m, loss_key);  /* borrowed */
            if (loss == NULL && PyErr_Occurred())
                goto error;
            if (loss != NULL) {
                if (!PyBool_Check(loss))  /* null or 1 is not a flag: the reader reports it */
                    goto not_plain;
                size--;
            }
        }
        if (size != 2)
            goto not_plain;
        PyObject *name = PyDict_GetItemWithError(m, role_key);
        if (name == NULL) {
            if (PyErr_Occurred())
                goto error;
            goto not_plain;
        }
        PyObject *content = PyDict_GetItemWithError(m, content_key);
        if (content == NULL) {
            if (PyErr_Occurred())
                goto error;
            goto not_plain;
        }
        if (!PyUnicode_CheckExact(name) || !PyUnicode_CheckExact(content))
            goto not_plain;
        PyObject *role = PyDict_GetItemWithError(names, name);
        if (role == NULL) {
            if (PyErr_Occurred())
                goto error;
            goto not_plain;
        }
        if (loss == NULL)
            loss = Py_None;
        Py_INCREF(role);
        Py_INCREF(content);
        Py_INCREF(loss);
        PyTuple_SET_ITEM(roles, i, role);
        PyTuple_SET_ITEM(contents, i, content);
        PyTuple_SET_ITEM(losses, i, loss);
    }
    PyObject *columns = PyTuple_Pack(3, roles, contents, losses);
    Py_DECREF(roles);
    Py_DECREF(contents);
    Py_DECREF(losses);
    return columns;

not_plain:
    Py_XDECREF(roles);
    Py_XDECREF(contents);
    Py_XDECREF(losses);
    Py_RETURN_NONE;
error:
    Py_XDECREF(roles);
    Py_XDECREF(contents);
    Py_XDECREF(losses);
    return NULL;
}

static PyObject *
parse_record(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "parse_record(loads, loads_error, strict, max_depth, text)");
        return NULL;
    }
    PyObject *loads = args[0], *loads_error = args[1], *strict = args[2], *text = args[4];
    PyObject *value = PyObject_CallOneArg(loads, text);
    if (value == NULL) {
        if (!PyErr_ExceptionMatches(loads_error))
            return NULL;
        PyErr_Clear();
        return PyObject_CallOneArg(strict, text);  /* its error, with its position, is the answer */
    }
    PyObject *call_args[3] = {text, value, args[3]};
    PyObject *match = members_match(module, call_args, 3);
    if (match == NULL) {
        Py_DECREF(value);
        return NULL;
    }
    int ok = match == Py_True;
    Py_DECREF(match);
    if (ok)
        return value;
    Py_DECREF(value);
    return PyObject_CallOneArg(strict, text);
}

static inline const char *
skip_space(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

/* Just after the object or array that starts at p (brackets balanced, strings skipped; the
   parser checks the rest), or NULL when the data ends first. */
static const char *
skip_container(const char *p, const char *end)
{
    Py_ssize_t depth = 0;
    while (p < end) {
        char c = *p;
        if (c == '"') {
            p = skip_string(p, end);
            if (p == NULL)
                return NULL;
            continue;
        }
        if (c == '{' || c == '[')
            depth++;
        else if ((c == '}' || c == ']') && --depth == 0)
            return p + 1;
        p++;
    }
    return NULL;
}

static PyObject *
record_spans(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "record_spans(data, start, in_array)");
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0)
        return NULL;
    Py_ssize_t start = PyLong_AsSsize_t(args[1]);
    int in_array = PyObject_IsTrue(args[2]);
    PyObject *spans = PyList_New(0);
    if ((start == -1 && PyErr_Occurred()) || in_array < 0 || spans == NULL)
        goto error;
    const char *base = (const char *)view.buf, *end = base + view.len;
    const char *p = base + (start < 0 ? 0 : start > view.len ? view.len : start);
    while (p < end && (*p == '{' || *p == '[')) {
        const char *after = skip_container(p, end);
        if (after == NULL)
            break;
        PyObject *from = PyLong_FromSsize_t(p - base), *to = PyLong_FromSsize_t(after - base);
        int failed = from == NULL || to == NULL || PyList_Append(spans, from) < 0 || PyList_Append(spans, to) < 0;
        Py_XDECREF(from);
        Py_XDECREF(to);
        if (failed)
            goto error;
        p = skip_space(after, end);
        if (in_array) {
            if (p >= end || *p != ',')
                break;
            p = skip_space(p + 1, end);
        }
    }
    PyBuffer_Release(&view);
    return spans;
error:
    Py_XDECREF(spans);
    PyBuffer_Release(&view);
    return NULL;
}

static PyObject *
jsonl_records(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "jsonl_records(data, index, line, record_type, unparsed)");
        return NULL;
    }
    PyObject *data = args[0], *unparsed = args[4];
    PyTypeObject *record_type = (PyTypeObject *)args[3];
    if (!PyBytes_CheckExact(data) || !PyType_Check(args[3]) || !PyType_IsSubtype(record_type, &PyTuple_Type)) {
        PyErr_SetString(PyExc_TypeError, "jsonl_records needs bytes and a tuple type");
        return NULL;
    }
    Py_ssize_t index = PyLong_AsSsize_t(args[1]), line = PyLong_AsSsize_t(args[2]);
    if ((index == -1 || line == -1) && PyErr_Occurred())
        return NULL;
    PyObject *records = PyList_New(0);
    if (records == NULL)
        return NULL;
    const char *p = PyBytes_AS_STRING(data), *end = p + PyBytes_GET_SIZE(data);
    Py_ssize_t newlines = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        const char *last = stop;
        while (last > p && last[-1] == '\r')
            last--;
        const char *q = p;
        while (q < last && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n' || *q == '\x0b' || *q == '\x0c'))
            q++;
        if (q < last) {  /* not blank */
            PyObject *record = record_type->tp_alloc(record_type, 5);
            if (record == NULL)
                goto error;
            PyObject *text = PyBytes_FromStringAndSize(p, last - p);
            PyObject *number = PyLong_FromSsize_t(line + newlines), *position = PyLong_FromSsize_t(index);
            PyObject *one = PyLong_FromLong(1);
            PyTuple_SET_ITEM(record, 0, position);
            PyTuple_SET_ITEM(record, 1, number);
            PyTuple_SET_ITEM(record, 2, one);
            PyTuple_SET_ITEM(record, 3, text);
            PyTuple_SET_ITEM(record, 4, Py_NewRef(unparsed));
            if (text == NULL || number == NULL || position == NULL || one == NULL
                    || PyList_Append(records, record) < 0) {
                Py_DECREF(record);
                goto error;
            }
            Py_DECREF(record);
            index++;
        }
        if (nl == NULL)
            break;
        newlines++;
        p = nl + 1;
    }
    PyObject *count = PyLong_FromSsize_t(newlines), *result = count ? PyTuple_New(2) : NULL;
    if (result == NULL) {
        Py_XDECREF(count);
        goto error;
    }
    PyTuple_SET_ITEM(result, 0, records);
    PyTuple_SET_ITEM(result, 1, count);
    return result;
error:
    Py_DECREF(records);
    return NULL;
}

/* Just past the value at p and the comma after it (at the next sibling), or NULL when no
   comma follows (the container ends) or the text does. */
static const char *
after_value(const char *p, const char *end)
{
    if (p >= end)
        return NULL;
    if (*p == '{' || *p == '[')
        p = skip_container(p, end);
    else if (*p == '"')
        p = skip_string(p, end);
    else
        while (p < end && *p != ',' && *p != ']' && *p != '}' && *p != ' ' && *p != '\t' && *p != '\n'
               && *p != '\r')
            p++;
    if (p == NULL)
        return NULL;
    p = skip_space(p, end);
    if (p >= end || *p != ',')
        return NULL;
    return skip_space(p + 1, end);
}

static PyObject *
path_offset(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyTuple_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "path_offset(text, steps: tuple)");
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0)
        return NULL;
    const char *base = (const char *)view.buf, *end = base + view.len;
    const char *pos = skip_space(base, end);
    Py_ssize_t answer = -1;
    PyObject *steps = args[1];
    for (Py_ssize_t s = 0; s < PyTuple_GET_SIZE(steps); s++) {
        PyObject *step = PyTuple_GET_ITEM(steps, s);
        if (pos >= end)
            break;
        if (*pos == '{' && PyUnicode_Check(step)) {
            Py_ssize_t size;
            const char *want = PyUnicode_AsUTF8AndSize(step, &size);
            if (want == NULL) {  /* a key no UTF-8 can spell: leave it to Python */
                PyErr_Clear();
                goto python;
            }
            const char *p = skip_space(pos + 1, end), *found = NULL;
            while (p != NULL && p < end && *p == '"') {
                const char *key_end = skip_string(p, end);
                if (key_end == NULL)
                    goto python;
                Py_ssize_t length = key_end - p - 2;
                if (memchr(p + 1, '\\', (size_t)length) != NULL)
                    goto python;  /* an escaped key: Python decodes it */
                const char *colon = skip_space(key_end, end);
                if (colon >= end || *colon != ':')
                    goto python;
                const char *value = skip_space(colon + 1, end);
                if (length == size && memcmp(p + 1, want, (size_t)size) == 0) {
                    found = value;
                    break;
                }
                p = after_value(value, end);
            }
            if (found == NULL)
                break;
            pos = found;
        }
        else if (*pos == '[' && PyLong_CheckExact(step)) {
            Py_ssize_t index = PyLong_AsSsize_t(step);
            if (index < 0) {
                PyErr_Clear();
                goto python;
            }
            const char *p = skip_space(pos + 1, end);
            for (Py_ssize_t i = 0; i < index && p != NULL; i++)
                p = after_value(p, end);
            if (p == NULL || p >= end || *p == ']')
                break;
            pos = p;
        }
        else
            break;
    }
    answer = pos - base;
python:
    PyBuffer_Release(&view);
    return PyLong_FromSsize_t(answer);
}

/* Interned keys of ChatGLM3 messages, made once at import. */
static PyObject *k_role, *k_content, *k_loss, *k_name, *k_parameters, *k_observation, *s_tool, *s_empty;

/* A borrowed value of `m[key]`, NULL when absent; -1 in *failed on a lookup error. */
static inline PyObject *
lookup(PyObject *m, PyObject *key, int *failed)
{
    PyObject *value = PyDict_GetItemWithError(m, key);
    if (value == NULL && PyErr_Occurred())
        *failed = 1;
    return value;
}

static PyObject *
chatglm3_columns(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError,
                        "chatglm3_columns(roles, paths, tool_call, observation, observation_text, conversation)");
        return NULL;
    }
    PyObject *names = args[0], *paths = args[1], *tool_call = args[2], *observation = args[3];
    PyObject *observation_text = args[4], *conv = args[5];
    if (!PyList_CheckExact(conv) || !PyDict_CheckExact(names) || !PyTuple_CheckExact(paths)) {
        PyErr_SetString(PyExc_TypeError, "chatglm3_columns needs a list, a dict of roles and a tuple of paths");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(conv);
    if (n > PyTuple_GET_SIZE(paths))
        Py_RETURN_NONE;
    /* A tool message makes two rows: at most 2n. */
    PyObject *cols[7] = {NULL};  /* roles, contents, losses, paths, names, arguments, data */
    for (int c = 0; c < 7; c++) {
        cols[c] = PyList_New(0);
        if (cols[c] == NULL)
            goto error;
    }
    int failed = 0, tools = 0, payloads = 0;
    PyObject *row[7];
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *m = PyList_GET_ITEM(conv, i);
        if (!PyDict_CheckExact(m))
            goto not_clean;
        Py_ssize_t size = PyDict_GET_SIZE(m);
        PyObject *role = lookup(m, k_role, &failed);
        PyObject *loss = lookup(m, k_loss, &failed);
        if (failed)
            goto error;
        if (loss != NULL) {
            if (!PyBool_Check(loss))
                goto not_clean;
            size--;
        }
        else
            loss = Py_None;
        PyObject *path = PyTuple_GET_ITEM(paths, i);
        if (role == NULL || !PyUnicode_CheckExact(role))
            goto not_clean;
        int is_tool = PyUnicode_Compare(role, s_tool) == 0;
        if (is_tool) {
            PyObject *name = lookup(m, k_name, &failed);
            PyObject *params = lookup(m, k_parameters, &failed);
            PyObject *payload = lookup(m, k_observation, &failed);
            if (failed)
                goto error;
            if (size != 4 || name == NULL || !PyUnicode_CheckExact(name) || params == NULL
                    || !PyDict_CheckExact(params) || payload == NULL)
                goto not_clean;
            tools = 1;
            row[0] = tool_call, row[1] = s_empty, row[2] = loss, row[3] = path, row[4] = name, row[5] = params;
            row[6] = Py_None;
            for (int c = 0; c < 7; c++)
                if (PyList_Append(cols[c], row[c]) < 0)
                    goto error;
            PyObject *text;
            if (PyUnicode_CheckExact(payload)) {
                text = Py_NewRef(payload);
                row[6] = Py_None;
            }
            else {
                text = PyObject_CallOneArg(observation_text, payload);
                if (text == NULL)
                    goto error;
                row[6] = payload;
                payloads |= payload != Py_None;  /* a null observation is no data */
            }
            row[0] = observation, row[1] = text, row[2] = Py_None, row[5] = Py_None;
            for (int c = 0; c < 7; c++) {
                if (PyList_Append(cols[c], row[c]) < 0) {
                    Py_DECREF(text);
                    goto error;
                }
            }
            Py_DECREF(text);
            continue;
        }
        PyObject *content = lookup(m, k_content, &failed);
        if (failed)
            goto error;
        if (size != 2 || content == NULL || !PyUnicode_CheckExact(content))
            goto not_clean;
        PyObject *canonical = PyDict_GetItemWithError(names, role);
        if (canonical == NULL) {
            if (PyErr_Occurred())
                goto error;
            goto not_clean;
        }
        row[0] = canonical, row[1] = content, row[2] = loss, row[3] = path;
        row[4] = row[5] = row[6] = Py_None;
        for (int c = 0; c < 7; c++)
            if (PyList_Append(cols[c], row[c]) < 0)
                goto error;
    }
    PyObject *result = PyTuple_New(7);
    if (result == NULL)
        goto error;
    for (int c = 0; c < 7; c++) {
        PyObject *column;
        if ((c == 4 || c == 5) && !tools)
            column = Py_NewRef(Py_None);  /* no tool message: no names or arguments, as Sample.of */
        else if (c == 6 && !payloads)
            column = Py_NewRef(Py_None);
        else {
            column = PyList_AsTuple(cols[c]);
            if (column == NULL) {
                Py_DECREF(result);
                goto error;
            }
        }
        PyTuple_SET_ITEM(result, c, column);
    }
    for (int c = 0; c < 7; c++)
        Py_DECREF(cols[c]);
    return result;

not_clean:
    for (int c = 0; c < 7; c++)
        Py_XDECREF(cols[c]);
    Py_RETURN_NONE;
error:
    for (int c = 0; c < 7; c++)
        Py_XDECREF(cols[c]);
    return NULL;
}

/* ---- dedup: text features and signature read-out ---------------------------------------- */

#define FEATURE_P 0x100000001B3ULL
#define FEATURE_PAIR 0x9E3779B97F4A7C15ULL

static inline unsigned long long
splitmix(unsigned long long x)
{
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

typedef struct {
    unsigned long long *data;
    size_t len, cap;
} u64_buffer;

static int
u64_grow(u64_buffer *b)
{
    size_t cap = b->cap ? 2 * b->cap : 1 << 16;
    unsigned long long *grown = PyMem_Realloc(b->data, cap * sizeof(unsigned long long));
    if (grown == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->data = grown, b->cap = cap;
    return 0;
}

static inline int
u64_push(u64_buffer *b, unsigned long long value)
{
    if (__builtin_expect(b->len == b->cap, 0) && u64_grow(b) < 0)
        return -1;
    b->data[b->len++] = value;
    return 0;
}

/* One more token of a text: its hash, mixed, and with the token before it one bigram. */
static inline __attribute__((always_inline)) int
text_token(unsigned long long hash, unsigned long long *previous, Py_ssize_t *tokens, u64_buffer *out)
{
    unsigned long long token = splitmix(hash);
    if (*tokens > 0 && u64_push(out, splitmix(*previous * FEATURE_PAIR + token)) < 0)
        return -1;
    *previous = token;
    ++*tokens;
    return 0;
}

/* The features of one text: its word bigrams' hashes, or its one word's. ASCII capitals are
   lowered here; any other code point that lowering changes (flag 4 in `classes`, or beyond the
   BMP) makes it return 1 before anything is kept, and the caller passes str.lower's text
   instead with `lowered` set: most texts, CJK ones too, never need that copy. Inlined into
   text_row once per string kind, so that each loop reads its own width of code unit. */
static inline __attribute__((always_inline)) int
text_row_of(int kind, int ascii, const void *data, Py_ssize_t n, int lowered, const unsigned char *classes,
            u64_buffer *out)
{
    unsigned long long previous = 0, hash = 0, power = 1;
    Py_ssize_t tokens = 0, length = 0;
    size_t start = out->len;
    for (Py_ssize_t i = 0; i <= n; i++) {
        Py_UCS4 c = i < n ? PyUnicode_READ(kind, data, i) : '\n';
        int cls;
        if (ascii || c < 0x80) {
            if (c >= 'A' && c <= 'Z')
                c += 'a' - 'A';
            cls = classes[c];  /* no flag: the capitals, the only ASCII code points with one, are lowered */
        }
        else if (c <= 0xFFFF) {
            cls = classes[c];
            if (!lowered && (cls & 4)) {
                out->len = start;
                return 1;
            }
            cls &= 3;
        }
        else {
            if (!lowered) {
                out->len = start;
                return 1;
            }
            cls = Py_UNICODE_ISALNUM(c) ? 1 : 0;
        }
        if (cls == 1) {  /* a word character: the token goes on */
            hash += (unsigned long long)c * power;
            power *= FEATURE_P;
            length++;
            continue;
        }
        if (length > 0) {  /* the word before this code point ends here */
            if (text_token(hash + (unsigned long long)length, &previous, &tokens, out) < 0)
                return -1;
            hash = 0, power = 1, length = 0;
        }
        /* a CJK character is a token of its own: hash c * P^0, length 1 */
        if (cls == 2 && text_token((unsigned long long)c + 1, &previous, &tokens, out) < 0)
            return -1;
    }
    if (tokens == 1 && u64_push(out, previous) < 0)
        return -1;
    return 0;
}

static int
text_row(PyObject *text, int lowered, const unsigned char *classes, u64_buffer *out)
{
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    switch (PyUnicode_KIND(text)) {
    case PyUnicode_1BYTE_KIND:
        if (PyUnicode_IS_ASCII(text))  /* every code point below 0x80, known when compiled */
            return text_row_of(PyUnicode_1BYTE_KIND, 1, data, n, 1, classes, out);
        return text_row_of(PyUnicode_1BYTE_KIND, 0, data, n, lowered, classes, out);
    case PyUnicode_2BYTE_KIND:
        return text_row_of(PyUnicode_2BYTE_KIND, 0, data, n, lowered, classes, out);
    default:
        return text_row_of(PyUnicode_4BYTE_KIND, 0, data, n, lowered, classes, out);
    }
}

static PyObject *
text_features(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyList_CheckExact(args[0]) || !PyBytes_CheckExact(args[1])
            || PyBytes_GET_SIZE(args[1]) != 0x10000) {
        PyErr_SetString(PyExc_TypeError, "text_features(texts: list[str], classes: bytes of 65536)");
        return NULL;
    }
    PyObject *texts = args[0];
    const unsigned char *classes = (const unsigned char *)PyBytes_AS_STRING(args[1]);
    Py_ssize_t count = PyList_GET_SIZE(texts);
    u64_buffer out = {NULL, 0, 0};
    PyObject *offsets = PyBytes_FromStringAndSize(NULL, (count + 1) * (Py_ssize_t)sizeof(unsigned long long));
    if (offsets == NULL)
        return NULL;
    unsigned long long *offset = (unsigned long long *)PyBytes_AS_STRING(offsets);
    offset[0] = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *text = PyList_GET_ITEM(texts, i);
        if (!PyUnicode_CheckExact(text)) {
            PyErr_SetString(PyExc_TypeError, "text_features needs a list of str");
            goto error;
        }
        int status = text_row(text, 0, classes, &out);
        if (status == 1) {  /* a code point that lowering changes: the text as str.lower gives it */
            PyObject *lowered = PyObject_CallMethod(text, "lower", NULL);
            if (lowered == NULL)
                goto error;
            status = text_row(lowered, 1, classes, &out);
            Py_DECREF(lowered);
        }
        if (status < 0)
            goto error;
        offset[i + 1] = out.len;
    }
    PyObject *features = PyBytes_FromStringAndSize((const char *)out.data,
                                                   (Py_ssize_t)(out.len * sizeof(unsigned long long)));
    PyMem_Free(out.data);
    if (features == NULL) {
        Py_DECREF(offsets);
        return NULL;
    }
    PyObject *result = PyTuple_Pack(2, features, offsets);
    Py_DECREF(features);
    Py_DECREF(offsets);
    return result;
error:
    PyMem_Free(out.data);
    Py_DECREF(offsets);
    return NULL;
}

static PyObject *
low16_rows(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyList_CheckExact(args[0])) {
        PyErr_SetString(PyExc_TypeError, "low16_rows(rows: list[list[int]], width)");
        return NULL;
    }
    PyObject *rows = args[0];
    Py_ssize_t width = PyLong_AsSsize_t(args[1]);
    if (width == -1 && PyErr_Occurred())
        return NULL;
    Py_ssize_t count = PyList_GET_SIZE(rows);
    PyObject *out = PyBytes_FromStringAndSize(NULL, count * width * 2);
    if (out == NULL)
        return NULL;
    unsigned short *values = (unsigned short *)PyBytes_AS_STRING(out);
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *row = PyList_GET_ITEM(rows, i);
        if (!PyList_CheckExact(row) || PyList_GET_SIZE(row) != width) {
            PyErr_SetString(PyExc_ValueError, "low16_rows: every row must be a list of `width` ints");
            goto error;
        }
        for (Py_ssize_t j = 0; j < width; j++) {
            PyObject *item = PyList_GET_ITEM(row, j);
            if (!PyLong_CheckExact(item)) {
                PyErr_SetString(PyExc_ValueError, "low16_rows: every row must be a list of `width` ints");
                goto error;
            }
            unsigned long value = PyLong_AsUnsignedLongMask(item);
            if (value == (unsigned long)-1 && PyErr_Occurred())
                goto error;
            *values++ = (unsigned short)(value & 0xFFFF);
        }
    }
    return out;
error:
    Py_DECREF(out);
    return NULL;
}

#define RADIX_BITS 11
#define RADIX_SIZE (1 << RADIX_BITS)

static PyObject *
sort_by_high_bits(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "sort_by_high_bits(values: buffer of uint64, low_bits: int)");
        return NULL;
    }
    long low = PyLong_AsLong(args[1]);
    if (low == -1 && PyErr_Occurred())
        return NULL;
    if (low < 0 || low > 64) {
        PyErr_SetString(PyExc_ValueError, "sort_by_high_bits: low_bits must be within 0..64");
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0)
        return NULL;
    if (view.len % 8 != 0) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "sort_by_high_bits: the buffer must hold whole uint64 values");
        return NULL;
    }
    size_t n = (size_t)view.len / 8;
    int passes = (int)((64 - low + RADIX_BITS - 1) / RADIX_BITS);
    PyObject *out = PyBytes_FromStringAndSize(NULL, view.len);
    unsigned long long *spare = PyMem_RawMalloc(n ? n * 8 : 1);
    size_t *counts = PyMem_RawCalloc((size_t)(passes ? passes : 1) * RADIX_SIZE, sizeof(size_t));
    if (out == NULL || spare == NULL || counts == NULL) {
        Py_XDECREF(out);
        PyMem_RawFree(spare);
        PyMem_RawFree(counts);
        PyBuffer_Release(&view);
        return out == NULL ? NULL : PyErr_NoMemory();
    }
    unsigned long long *sorted = (unsigned long long *)PyBytes_AS_STRING(out);
    const unsigned long long *values = (const unsigned long long *)view.buf;
    Py_BEGIN_ALLOW_THREADS
    for (size_t i = 0; i < n; i++)  /* every pass's histogram in one read */
        for (int p = 0; p < passes; p++)
            counts[(size_t)p * RADIX_SIZE + ((values[i] >> (low + p * RADIX_BITS)) & (RADIX_SIZE - 1))]++;
    int needed[64 / RADIX_BITS + 1], kept = 0;
    for (int p = 0; p < passes; p++) {  /* a digit that every value shares moves nothing */
        size_t *count = counts + (size_t)p * RADIX_SIZE;
        int full = 0;
        for (int d = 0; d < RADIX_SIZE; d++)
            full |= count[d] == n;
        if (!full)
            needed[kept++] = p;
    }
    const unsigned long long *from = values;
    for (int k = 0; k < kept; k++) {
        int p = needed[k];
        /* the passes alternate between the two buffers so that the last one fills `sorted` */
        unsigned long long *to = (kept - k) % 2 == 1 ? sorted : spare;
        size_t *count = counts + (size_t)p * RADIX_SIZE, at = 0;
        for (int d = 0; d < RADIX_SIZE; d++) {
            size_t c = count[d];
            count[d] = at;
            at += c;
        }
        int shift = (int)low + p * RADIX_BITS;
        for (size_t i = 0; i < n; i++) {
            unsigned long long v = from[i];
            to[count[(v >> shift) & (RADIX_SIZE - 1)]++] = v;
        }
        from = to;
    }
    if (kept == 0 && n)
        memcpy(sorted, values, n * 8);
    Py_END_ALLOW_THREADS
    PyMem_RawFree(spare);
    PyMem_RawFree(counts);
    PyBuffer_Release(&view);
    return out;
}

static PyMethodDef methods[] = {
    {"parse_record", (PyCFunction)(void (*)(void))parse_record, METH_FASTCALL,
     "parse_record(loads, loads_error, strict, max_depth, text) -> value; see dataforge/jsonio/parse.py."},
    {"members_match", (PyCFunction)(void (*)(void))members_match, METH_FASTCALL,
     "members_match(text, value, max_depth) -> bool: no duplicate keys and nesting within max_depth."},
    {"plain_columns", (PyCFunction)(void (*)(void))plain_columns, METH_FASTCALL,
     "plain_columns(messages, role_key, content_key, loss_key, roles, max_messages) -> columns or None."},
    {"chatglm3_columns", (PyCFunction)(void (*)(void))chatglm3_columns, METH_FASTCALL,
     "chatglm3_columns(roles, paths, tool_call, observation, observation_text, conversation) -> columns or None."},
    {"record_spans", (PyCFunction)(void (*)(void))record_spans, METH_FASTCALL,
     "record_spans(data, start, in_array) -> [start, end, start, end, ...] of whole records."},
    {"jsonl_records", (PyCFunction)(void (*)(void))jsonl_records, METH_FASTCALL,
     "jsonl_records(data, index, line, record_type, unparsed) -> (records, newlines)."},
    {"path_offset", (PyCFunction)(void (*)(void))path_offset, METH_FASTCALL,
     "path_offset(text, steps) -> byte offset of the deepest existing step, or -1 for Python to decide."},
    {"text_features", (PyCFunction)(void (*)(void))text_features, METH_FASTCALL,
     "text_features(texts, classes) -> (features, offsets) as bytes of uint64; see dataforge/dedup.py."},
    {"sort_by_high_bits", (PyCFunction)(void (*)(void))sort_by_high_bits, METH_FASTCALL,
     "sort_by_high_bits(values, low_bits) -> bytes of uint64 sorted stably by their bits from low_bits up."},
    {"low16_rows", (PyCFunction)(void (*)(void))low16_rows, METH_FASTCALL,
     "low16_rows(rows, width) -> bytes of uint16: the low 16 bits of each value of each row."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "dataforge._speedups",
    "Compiled fast paths for per-record work; see dataforge/speedups.py.", -1, methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    k_role = PyUnicode_InternFromString("role");
    k_content = PyUnicode_InternFromString("content");
    k_loss = PyUnicode_InternFromString("loss");
    k_name = PyUnicode_InternFromString("name");
    k_parameters = PyUnicode_InternFromString("parameters");
    k_observation = PyUnicode_InternFromString("observation");
    s_tool = PyUnicode_InternFromString("tool");
    s_empty = PyUnicode_InternFromString("");
    if (!k_role || !k_content || !k_loss || !k_name || !k_parameters || !k_observation || !s_tool || !s_empty)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && PyModule_AddStringConstant(m, "SOURCE_DIGEST", SOURCE_DIGEST) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
