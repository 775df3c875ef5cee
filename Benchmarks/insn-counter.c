/*
 * insn-counter: a QEMU user-mode plugin that counts the guest instructions a program
 * executes, every thread together, for Benchmarks/instructions-per-request.sh.
 *
 * This machine's VM exposes no hardware counters (perf reads `<not supported>` for
 * instructions) and valgrind 3.19 cannot run the garden's Swift 6 binary, so the
 * instructions per request that issue 16 asks for are counted by running the server
 * under `qemu-x86_64 -plugin`. Only user-space instructions are counted (the kernel's
 * work in system calls is not), as callgrind would count them.
 *
 * The count is read on demand: create the file OUT.ask and wait until it is gone; OUT
 * then holds the count at that moment. (A server never exits by itself, so the count
 * cannot wait for the end.)
 *
 *   gcc -O2 -shared -fPIC -fvisibility=hidden -o insn-counter.so insn-counter.c -lpthread
 *   qemu-x86_64 -plugin ./insn-counter.so,out=/tmp/count PROGRAM ARGS...
 *
 * The few declarations below are QEMU's plugin API (include/qemu/qemu-plugin.h), written
 * out because Debian ships QEMU's plugin support in qemu-user but not the header. API
 * version 1 is what QEMU 7.2 (Debian 12) accepts.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;
struct qemu_plugin_tb;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                          enum qemu_plugin_cb_flags flags, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

/* Every guest thread adds to it: atomically, or the threads' counts would be lost. */
static uint64_t executed;
static char *out_path;
static char *ask_path;

/* Each translated block adds its length when it runs. */
static void block_ran(unsigned int vcpu, void *length) {
    (void)vcpu;
    __atomic_fetch_add(&executed, (uint64_t)(uintptr_t)length, __ATOMIC_RELAXED);
}

static void block_translated(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    (void)id;
    qemu_plugin_register_vcpu_tb_exec_cb(tb, block_ran, QEMU_PLUGIN_CB_NO_REGS,
                                         (void *)(uintptr_t)qemu_plugin_tb_n_insns(tb));
}

/* Writes the count to OUT (through a temporary file: a reader never sees half of it). */
static void write_count(void) {
    char temporary[4096];
    snprintf(temporary, sizeof temporary, "%s.tmp", out_path);
    FILE *file = fopen(temporary, "w");
    if (!file) return;
    fprintf(file, "%llu\n", (unsigned long long)__atomic_load_n(&executed, __ATOMIC_RELAXED));
    fclose(file);
    rename(temporary, out_path);
}

static void program_exited(qemu_plugin_id_t id, void *unused) {
    (void)id;
    (void)unused;
    write_count();
}

/* Answers each OUT.ask within a few milliseconds. */
static void *answer_asks(void *unused) {
    (void)unused;
    for (;;) {
        if (access(ask_path, F_OK) == 0) {
            write_count();
            unlink(ask_path);
        }
        usleep(2000);
    }
    return NULL;
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                                               int argc, char **argv) {
    (void)info;
    out_path = "insn-count";
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "out=", 4) == 0) out_path = strdup(argv[i] + 4);
    }
    size_t length = strlen(out_path) + 5;
    ask_path = malloc(length);
    if (!ask_path) return -1;
    snprintf(ask_path, length, "%s.ask", out_path);
    qemu_plugin_register_vcpu_tb_trans_cb(id, block_translated);
    qemu_plugin_register_atexit_cb(id, program_exited, NULL);
    pthread_t thread;
    return pthread_create(&thread, NULL, answer_asks, NULL) == 0 ? 0 : -1;
}
