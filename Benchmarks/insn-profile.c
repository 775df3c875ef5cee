/*
 * insn-profile: a QEMU user-mode plugin that counts the instructions a program executes,
 * says where they go and who calls a few runtime functions, for
 * Benchmarks/instructions-per-request.sh and Benchmarks/where-instructions-go.sh.
 *
 * This machine's VM exposes no hardware counters (perf reads `<not supported>` for
 * instructions) and valgrind 3.19 cannot run the garden's Swift 6 binary, so the
 * instructions per request that issue 16 asks for are counted by running the server
 * under `qemu-x86_64 -plugin`. Only user-space instructions are counted (the kernel's
 * work in system calls is not), every thread together, as callgrind would count them.
 *
 * For every translated block it counts how often the block ran (its instructions times
 * that are the block's share); for each function named with `call=ADDRESS`, how often
 * it was entered from each block (the caller: the block that ran just before, or the one
 * before that when the block before is a one-instruction PLT stub). Issue 16 asked for
 * retain/release traffic and allocations per request: swift_retain, swift_release,
 * swift_allocObject and malloc are such functions.
 *
 * The counts are read on demand (a server never exits by itself): create OUT.ask and
 * wait until it is gone; OUT then holds one line per block that ran:
 *   ADDRESS INSTRUCTIONS RUNS SYMBOL-OR-? CALLS-TO-TARGET-0 CALLS-TO-TARGET-1 ...
 *
 *   gcc -O2 -shared -fPIC -fvisibility=hidden -o insn-profile.so insn-profile.c -lpthread
 *   qemu-x86_64 -plugin ./insn-profile.so,out=/tmp/profile,call=4004437980 PROGRAM ARGS...
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
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                          enum qemu_plugin_cb_flags flags, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t index);
const char *qemu_plugin_insn_symbol(const struct qemu_plugin_insn *insn);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

enum { maxTargets = 16, maxThreads = 256 };

/* One translated block. A block translated again (QEMU flushes its cache) is a new one. */
struct block {
    uint64_t address;
    uint64_t instructions;
    uint64_t runs;
    int target;             /* 1 + the index of the `call=` function it starts, or 0 */
    const char *symbol;     /* the program's own symbol, when QEMU knows it */
    uint64_t calls[maxTargets];
    struct block *next;
};

static struct block *blocks;
static pthread_mutex_t blocks_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t targets[maxTargets];
static int target_count;
/* Per guest thread (QEMU's vCPU index), the two blocks that ran last. */
static struct block *last[maxThreads], *before_last[maxThreads];
static char *out_path;
static char *ask_path;

static void block_ran(unsigned int vcpu, void *data) {
    struct block *block = data;
    vcpu %= maxThreads;
    __atomic_fetch_add(&block->runs, 1, __ATOMIC_RELAXED);
    if (block->target) {
        struct block *caller = last[vcpu];
        if (caller && caller->instructions == 1 && !caller->symbol) caller = before_last[vcpu];
        if (caller) __atomic_fetch_add(&caller->calls[block->target - 1], 1, __ATOMIC_RELAXED);
    }
    before_last[vcpu] = last[vcpu];
    last[vcpu] = block;
}

static void block_translated(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    (void)id;
    struct block *block = calloc(1, sizeof *block);
    if (!block) return;
    block->address = qemu_plugin_tb_vaddr(tb);
    block->instructions = qemu_plugin_tb_n_insns(tb);
    const char *symbol = qemu_plugin_insn_symbol(qemu_plugin_tb_get_insn(tb, 0));
    block->symbol = symbol ? strdup(symbol) : NULL;
    for (int i = 0; i < target_count; i++) {
        if (targets[i] == block->address) block->target = i + 1;
    }
    pthread_mutex_lock(&blocks_lock);
    block->next = blocks;
    blocks = block;
    pthread_mutex_unlock(&blocks_lock);
    qemu_plugin_register_vcpu_tb_exec_cb(tb, block_ran, QEMU_PLUGIN_CB_NO_REGS, block);
}

static void write_profile(void) {
    char temporary[4096];
    snprintf(temporary, sizeof temporary, "%s.tmp", out_path);
    FILE *file = fopen(temporary, "w");
    if (!file) return;
    pthread_mutex_lock(&blocks_lock);
    for (struct block *block = blocks; block; block = block->next) {
        uint64_t runs = __atomic_load_n(&block->runs, __ATOMIC_RELAXED);
        if (!runs) continue;
        fprintf(file, "%llx %llu %llu %s", (unsigned long long)block->address, (unsigned long long)block->instructions,
                (unsigned long long)runs, block->symbol ? block->symbol : "?");
        for (int i = 0; i < target_count; i++) {
            fprintf(file, " %llu", (unsigned long long)__atomic_load_n(&block->calls[i], __ATOMIC_RELAXED));
        }
        fputc('\n', file);
    }
    pthread_mutex_unlock(&blocks_lock);
    fclose(file);
    rename(temporary, out_path);
}

static void *answer_asks(void *unused) {
    (void)unused;
    for (;;) {
        if (access(ask_path, F_OK) == 0) {
            write_profile();
            unlink(ask_path);
        }
        usleep(5000);
    }
    return NULL;
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                                               int argc, char **argv) {
    (void)info;
    out_path = "insn-profile";
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "out=", 4) == 0) out_path = strdup(argv[i] + 4);
        if (strncmp(argv[i], "call=", 5) == 0 && target_count < maxTargets) {
            targets[target_count++] = strtoull(argv[i] + 5, NULL, 16);
        }
    }
    size_t length = strlen(out_path) + 5;
    ask_path = malloc(length);
    if (!ask_path) return -1;
    snprintf(ask_path, length, "%s.ask", out_path);
    qemu_plugin_register_vcpu_tb_trans_cb(id, block_translated);
    pthread_t thread;
    return pthread_create(&thread, NULL, answer_asks, NULL) == 0 ? 0 : -1;
}
