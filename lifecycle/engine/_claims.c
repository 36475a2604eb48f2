/* A table of fingerprints shared by forked worker processes, for the parallel search.
 *
 * Why: shipping every successor to the worker that owns its fingerprint costs a pickle
 * and an unpickle per state, more than the rest of the search on a fast model. With
 * this table every worker keeps the states it finds, and the table decides which
 * worker keeps a state every worker may find: each slot holds a fingerprint and the
 * smallest *claim* made for it, a 64-bit word `level << 48 | order`, updated with an
 * atomic minimum. A state stored at an earlier level has a smaller claim, so it always
 * wins; within a level the smallest order wins, which is the serial search's choice
 * (see parallel.py).
 *
 * The table lives in an anonymous shared mapping made before the fork (a Python mmap,
 * attached once as a writable buffer, so the forked workers find it at the same
 * address): open addressing with linear probing, two 64-bit words per slot, the key 0
 * meaning empty (the fingerprint 0 is stored as 1).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

static Py_buffer view; /* the attached table, kept for the process's life */
static int attached = 0;
static uint64_t *slots = NULL;
static uint64_t mask = 0;

/* attach(table): use `table` (a writable buffer of 16 * 2**k bytes) from now on, in
 * this process and in the processes it forks. */
static PyObject *attach(PyObject *self, PyObject *buffer) {
    Py_buffer fresh;
    if (PyObject_GetBuffer(buffer, &fresh, PyBUF_WRITABLE) < 0) {
        return NULL;
    }
    uint64_t capacity = (uint64_t)fresh.len / 16;
    if (capacity == 0 || (capacity & (capacity - 1)) != 0) {
        PyBuffer_Release(&fresh);
        PyErr_SetString(PyExc_ValueError, "the table needs a power-of-two number of slots");
        return NULL;
    }
    if (attached) {
        PyBuffer_Release(&view);
    }
    view = fresh;
    attached = 1;
    slots = (uint64_t *)view.buf;
    mask = capacity - 1;
    Py_RETURN_NONE;
}

static int key_of(PyObject *arg, uint64_t *key) {
    unsigned long long fp = PyLong_AsUnsignedLongLong(arg);
    if (fp == (unsigned long long)-1 && PyErr_Occurred()) {
        return -1;
    }
    if (!attached) {
        PyErr_SetString(PyExc_RuntimeError, "no table attached");
        return -1;
    }
    *key = fp ? (uint64_t)fp : 1;
    return 0;
}

/* claim(fingerprint, claim) -> the claim stored before (0: none), or -1 when the table
 * is full. The stored claim becomes the smaller of the two. */
static PyObject *claim(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "claim(fingerprint, claim)");
        return NULL;
    }
    uint64_t key;
    if (key_of(args[0], &key) < 0) {
        return NULL;
    }
    unsigned long long value = PyLong_AsUnsignedLongLong(args[1]);
    if (value == (unsigned long long)-1 && PyErr_Occurred()) {
        return NULL;
    }
    uint64_t index = key & mask;
    for (uint64_t probes = 0; probes <= mask; probes++) {
        uint64_t *slot = slots + 2 * index;
        uint64_t found = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
        if (found == 0) {
            uint64_t empty = 0;
            if (__atomic_compare_exchange_n(slot, &empty, key, 0, __ATOMIC_ACQ_REL,
                                            __ATOMIC_ACQUIRE)) {
                found = key;
            } else {
                found = empty;
            }
        }
        if (found == key) {
            uint64_t *word = slot + 1;
            uint64_t before = __atomic_load_n(word, __ATOMIC_ACQUIRE);
            while (before == 0 || (uint64_t)value < before) {
                if (__atomic_compare_exchange_n(word, &before, (uint64_t)value, 0,
                                                __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
                    break;
                }
            }
            return PyLong_FromUnsignedLongLong(before);
        }
        index = (index + 1) & mask;
    }
    return PyLong_FromLong(-1);
}

/* lookup(fingerprint) -> the claim stored for it, 0 when there is none. */
static PyObject *lookup(PyObject *self, PyObject *arg) {
    uint64_t key;
    if (key_of(arg, &key) < 0) {
        return NULL;
    }
    uint64_t index = key & mask;
    for (uint64_t probes = 0; probes <= mask; probes++) {
        uint64_t *slot = slots + 2 * index;
        uint64_t found = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
        if (found == 0) {
            break;
        }
        if (found == key) {
            return PyLong_FromUnsignedLongLong(__atomic_load_n(slot + 1, __ATOMIC_ACQUIRE));
        }
        index = (index + 1) & mask;
    }
    return PyLong_FromLong(0);
}

static PyMethodDef methods[] = {
    {"attach", attach, METH_O, "Use this buffer as the table."},
    {"claim", (PyCFunction)(void (*)(void))claim, METH_FASTCALL,
     "Claim a fingerprint; return the claim stored before."},
    {"lookup", lookup, METH_O, "The claim stored for a fingerprint (0: none)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_claims",
    "A fingerprint table shared by forked workers (see lifecycle.engine.parallel).", -1,
    methods,
};

PyMODINIT_FUNC PyInit__claims(void) { return PyModule_Create(&module); }
