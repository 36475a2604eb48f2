/* The state fingerprint of lifecycle.engine.fingerprint, in C.
 *
 * The same function as `py_fingerprint` (fingerprint.py defines it and documents
 * why): 64-bit words mixed with the MurmurHash3 finalizer. This walks the values that
 * states are made of (None, integers, integral floats, strings, bytes, tuples,
 * frozensets) and hands anything else to a Python fallback (enum members,
 * dataclasses, non-integral numbers), which may raise CannotFingerprint.
 *
 * The tests hold this implementation to the Python one, value for value.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define T_NONE 0x6A09E667F3BCC909ULL
#define T_INT 0xBB67AE8584CAA73BULL
#define T_BIG 0x3C6EF372FE94F82BULL
#define T_STR 0x1F83D9ABFB41BD6BULL
#define T_BYTES 0x5BE0CD19137E2179ULL
#define T_TUPLE 0xCBBB9D5DC1059ED9ULL
#define T_SET 0x629A292A367CD507ULL
#define T_ELEMENT 0x9159015A3070DD17ULL
#define GOLDEN 0x9E3779B97F4A7C15ULL

static PyObject *fallback = NULL; /* fallback(value) -> int */

static inline uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xFF51AFD7ED558CCDULL;
    x ^= x >> 33;
    x *= 0xC4CEB9FE1A85EC53ULL;
    x ^= x >> 33;
    return x;
}

static inline uint64_t absorb(uint64_t h, uint64_t word) {
    return mix(h ^ (word + GOLDEN + (h << 6) + (h >> 2)));
}

static uint64_t bytes_digest(uint64_t tag, const unsigned char *data, Py_ssize_t n) {
    uint64_t h = tag;
    Py_ssize_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w = 0;
        for (int k = 7; k >= 0; k--) w = (w << 8) | data[i + k];
        h = absorb(h, w);
    }
    if (i < n) {
        uint64_t w = 0;
        for (Py_ssize_t k = n - 1; k >= i; k--) w = (w << 8) | data[k];
        h = absorb(h, w);
    }
    return absorb(h, (uint64_t)n);
}

/* A big integer: its sign, then its magnitude's 64-bit limbs, lowest first. */
static int big_digest(PyObject *n, uint64_t *out) {
    PyObject *zero_value = PyLong_FromLong(0);
    if (zero_value == NULL) return -1;
    int negative = PyObject_RichCompareBool(n, zero_value, Py_LT);
    Py_DECREF(zero_value);
    if (negative < 0) return -1;
    PyObject *m = negative ? PyNumber_Negative(n) : (Py_INCREF(n), n);
    if (m == NULL) return -1;
    PyObject *mask = PyLong_FromUnsignedLongLong(UINT64_MAX);
    PyObject *shift = PyLong_FromLong(64);
    uint64_t h = absorb(T_BIG, negative ? 1 : 0);
    uint64_t limbs = 0;
    int status = 0;
    while (mask && shift) {
        int zero = PyObject_Not(m);
        if (zero < 0) { status = -1; break; }
        if (zero) break;
        PyObject *low = PyNumber_And(m, mask);
        if (low == NULL) { status = -1; break; }
        uint64_t word = PyLong_AsUnsignedLongLong(low);
        Py_DECREF(low);
        if (word == (uint64_t)-1 && PyErr_Occurred()) { status = -1; break; }
        h = absorb(h, word);
        limbs++;
        PyObject *rest = PyNumber_Rshift(m, shift);
        Py_DECREF(m);
        m = rest;
        if (m == NULL) { status = -1; break; }
    }
    Py_XDECREF(m);
    Py_XDECREF(mask);
    Py_XDECREF(shift);
    if (status < 0 || PyErr_Occurred()) return -1;
    *out = absorb(h, limbs);
    return 0;
}

static int int_digest(PyObject *value, uint64_t *out) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (v == -1 && PyErr_Occurred()) return -1;
    if (!overflow) {
        *out = mix(T_INT ^ (uint64_t)v);
        return 0;
    }
    return big_digest(value, out);
}

static int digest(PyObject *value, uint64_t *out, int depth);

static int call_fallback(PyObject *value, uint64_t *out) {
    if (fallback == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "fingerprint: no fallback configured");
        return -1;
    }
    PyObject *r = PyObject_CallOneArg(fallback, value);
    if (r == NULL) return -1;
    uint64_t h = PyLong_AsUnsignedLongLong(r);
    Py_DECREF(r);
    if (h == (uint64_t)-1 && PyErr_Occurred()) return -1;
    *out = h;
    return 0;
}

static int digest(PyObject *value, uint64_t *out, int depth) {
    if (depth > 1000) {
        PyErr_SetString(PyExc_RecursionError, "fingerprint: a state nested over 1000 deep");
        return -1;
    }
    if (value == Py_None) {
        *out = mix(T_NONE);
        return 0;
    }
    if (PyLong_Check(value)) return int_digest(value, out); /* bool, IntEnum too */
    if (PyUnicode_Check(value)) {
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(value, &n);
        if (s == NULL) {
            /* Lone surrogates: encode as the Python implementation does. */
            PyErr_Clear();
            PyObject *b = PyUnicode_AsEncodedString(value, "utf-8", "surrogatepass");
            if (b == NULL) return -1;
            *out = bytes_digest(T_STR, (const unsigned char *)PyBytes_AS_STRING(b),
                                PyBytes_GET_SIZE(b));
            Py_DECREF(b);
            return 0;
        }
        *out = bytes_digest(T_STR, (const unsigned char *)s, n);
        return 0;
    }
    if (PyTuple_Check(value)) {
        Py_ssize_t n = PyTuple_GET_SIZE(value);
        uint64_t h = T_TUPLE;
        for (Py_ssize_t i = 0; i < n; i++) {
            uint64_t item;
            if (digest(PyTuple_GET_ITEM(value, i), &item, depth + 1) < 0) return -1;
            h = absorb(h, item);
        }
        *out = absorb(h, (uint64_t)n);
        return 0;
    }
    if (PyBytes_Check(value)) {
        *out = bytes_digest(T_BYTES, (const unsigned char *)PyBytes_AS_STRING(value),
                            PyBytes_GET_SIZE(value));
        return 0;
    }
    if (PyFloat_Check(value)) {
        double d = PyFloat_AS_DOUBLE(value);
        if (isfinite(d) && floor(d) == d) {
            if (d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
                *out = mix(T_INT ^ (uint64_t)(long long)d);
                return 0;
            }
            PyObject *n = PyLong_FromDouble(d);
            if (n == NULL) return -1;
            int r = big_digest(n, out);
            Py_DECREF(n);
            return r;
        }
        return call_fallback(value, out);
    }
    if (PyFrozenSet_Check(value)) {
        PyObject *it = PyObject_GetIter(value);
        if (it == NULL) return -1;
        PyObject *key;
        uint64_t acc = 0;
        while ((key = PyIter_Next(it)) != NULL) {
            uint64_t item;
            int r = digest(key, &item, depth + 1);
            Py_DECREF(key);
            if (r < 0) {
                Py_DECREF(it);
                return -1;
            }
            acc += mix(item ^ T_ELEMENT);
        }
        Py_DECREF(it);
        if (PyErr_Occurred()) return -1;
        *out = absorb(absorb(T_SET, acc), (uint64_t)PySet_GET_SIZE(value));
        return 0;
    }
    return call_fallback(value, out);
}

static PyObject *fingerprint(PyObject *self, PyObject *value) {
    uint64_t h;
    if (digest(value, &h, 0) < 0) return NULL;
    return PyLong_FromUnsignedLongLong(h);
}

static PyObject *configure(PyObject *self, PyObject *function) {
    if (!PyCallable_Check(function)) {
        PyErr_SetString(PyExc_TypeError, "configure() takes a callable");
        return NULL;
    }
    Py_XSETREF(fallback, Py_NewRef(function));
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"fingerprint", fingerprint, METH_O, "The 64-bit fingerprint of a state."},
    {"configure", configure, METH_O, "Set the fallback for values C does not encode."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_fingerprint",
    "State fingerprints in C (see lifecycle.engine.fingerprint).", -1, methods,
};

PyMODINIT_FUNC PyInit__fingerprint(void) { return PyModule_Create(&module); }
