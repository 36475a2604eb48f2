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
 *
 * The table starts small and grows (see parallel.py): a claim lands on a random slot,
 * so a table much larger than the search costs a page fault per claim and memory for
 * pages that hold a few slots each. A key is stored within MAX_PROBES slots of its home
 * slot; a claim that finds no room there returns -2, and the search grows the table
 * (`migrate`) and runs the level again.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

static Py_buffer view; /* the attached table, kept for the process's life */
static int attached = 0;
static uint64_t *slots = NULL;
static uint64_t mask = 0;

#define MAX_PROBES 64

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

/* claim(fingerprint, claim) -> the claim stored before (0: none), or -2 when the key
 * finds no room within MAX_PROBES slots (the table must grow). The stored claim becomes
 * the smaller of the two. */
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
    for (uint64_t probes = 0; probes < MAX_PROBES && probes <= mask; probes++) {
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
    return PyLong_FromLong(-2);
}

/* lookup(fingerprint) -> the claim stored for it, 0 when there is none. */
static PyObject *lookup(PyObject *self, PyObject *arg) {
    uint64_t key;
    if (key_of(arg, &key) < 0) {
        return NULL;
    }
    uint64_t index = key & mask;
    for (uint64_t probes = 0; probes < MAX_PROBES && probes <= mask; probes++) {
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

/* migrate(old, new, below) -> the entries copied: every key of table `old` whose claim
 * is smaller than `below` (those of a level being run again are dropped), into the
 * empty table `new` (both buffers of 16 * 2**k bytes); -1 when one finds no room (the
 * new table is too small). Run by one process while the workers wait. */
static PyObject *migrate(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "migrate(old, new, below)");
        return NULL;
    }
    unsigned long long below = PyLong_AsUnsignedLongLong(args[2]);
    if (below == (unsigned long long)-1 && PyErr_Occurred()) {
        return NULL;
    }
    Py_buffer old, fresh;
    if (PyObject_GetBuffer(args[0], &old, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    if (PyObject_GetBuffer(args[1], &fresh, PyBUF_WRITABLE) < 0) {
        PyBuffer_Release(&old);
        return NULL;
    }
    uint64_t old_n = (uint64_t)old.len / 16, new_n = (uint64_t)fresh.len / 16;
    if (new_n == 0 || (new_n & (new_n - 1)) != 0) {
        PyBuffer_Release(&old);
        PyBuffer_Release(&fresh);
        PyErr_SetString(PyExc_ValueError, "the table needs a power-of-two number of slots");
        return NULL;
    }
    const uint64_t *from = (const uint64_t *)old.buf;
    uint64_t *to = (uint64_t *)fresh.buf;
    uint64_t new_mask = new_n - 1;
    long long copied = 0;
    for (uint64_t i = 0; i < old_n && copied >= 0; i++) {
        uint64_t key = from[2 * i], value = from[2 * i + 1];
        if (key == 0 || value >= (uint64_t)below) {
            continue;
        }
        uint64_t index = key & new_mask;
        uint64_t probes = 0;
        while (probes < MAX_PROBES && to[2 * index] != 0) {
            index = (index + 1) & new_mask;
            probes++;
        }
        if (probes == MAX_PROBES) {
            copied = -1;
            break;
        }
        to[2 * index] = key;
        to[2 * index + 1] = value;
        copied++;
    }
    PyBuffer_Release(&old);
    PyBuffer_Release(&fresh);
    return PyLong_FromLongLong(copied);
}

static PyMethodDef methods[] = {
    {"attach", attach, METH_O, "Use this buffer as the table."},
    {"claim", (PyCFunction)(void (*)(void))claim, METH_FASTCALL,
     "Claim a fingerprint; return the claim stored before."},
    {"lookup", lookup, METH_O, "The claim stored for a fingerprint (0: none)."},
    {"migrate", (PyCFunction)(void (*)(void))migrate, METH_FASTCALL,
     "Copy a table's entries below a claim into a larger empty table."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_claims",
    "A fingerprint table shared by forked workers (see lifecycle.engine.parallel).", -1,
    methods,
};

PyMODINIT_FUNC PyInit__claims(void) { return PyModule_Create(&module); }
