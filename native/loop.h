// The sampler's native loop (loop.cc): the ring's memory and offsets as JavaScript passes them.
#ifndef PROCPROBE_LOOP_H_
#define PROCPROBE_LOOP_H_

#include <stddef.h>
#include <stdint.h>

#include "probe.h"

struct pp_loop_ring {
  int32_t* header;
  double* records;
  int32_t* versions;
  double* gauges;
  int32_t capacity, stride, gauge_count;
  // Int32 word indices in header (H in src/ring/layout.ts).
  int32_t h_last_slot, h_missed, h_stop, h_pause;
  // Float64 offsets in a record (R) and in its row (F).
  int32_t r_seq, r_status, r_lag, r_processes, r_pss, r_row, r_gauges;
  int32_t f_pid, f_timestamp, f_cpu_user, f_cpu_system, f_cpu_percent;
};

// Positions in the layout Int32Array JavaScript passes to runLoop: LOOP_LAYOUT in
// src/ring/layout.ts lists the same names in the same order (test/ring.layout.test.ts checks).
enum pp_loop_layout {
  PP_L_CAPACITY,
  PP_L_STRIDE,
  PP_L_GAUGE_COUNT,
  PP_L_H_LAST_SLOT,
  PP_L_H_MISSED,
  PP_L_H_STOP,
  PP_L_H_PAUSE,
  PP_L_R_SEQ,
  PP_L_R_STATUS,
  PP_L_R_LAG,
  PP_L_R_PROCESSES,
  PP_L_R_PSS,
  PP_L_R_ROW,
  PP_L_R_GAUGES,
  PP_L_F_PID,
  PP_L_F_TIMESTAMP,
  PP_L_F_CPU_USER,
  PP_L_F_CPU_SYSTEM,
  PP_L_F_CPU_PERCENT,
  PP_L_COUNT
};

// How runLoop returns (LoopExit in src/ring/layout.ts).
enum pp_loop_exit {
  PP_LOOP_STOP = 0,         // the stop word was set
  PP_LOOP_PAUSE = 1,        // the pause word was set
  PP_LOOP_TARGET = 2,       // a read failed (the process exited): *last_status says how
  PP_LOOP_UNSUPPORTED = 3,  // no absolute-deadline sleep here: use the JavaScript loop
  PP_LOOP_YIELD = 4,        // max_ms elapsed: JavaScript runs briefly (a terminate() can land), then calls again
};

// The lengths, in elements, of the arrays a pp_loop_ring points into.
struct pp_loop_sizes {
  size_t header, records, versions, gauges;
};

// The first layout word that would make the loop touch memory outside its arrays: its name in
// the layout ("stride"), its value, and the inclusive integer range it had to be in.
struct pp_loop_fault {
  const char* field;
  double got, min, max;
};

// 0 when every offset of r lies within the arrays of the sizes n (records, the row and the
// gauges within a record, header words within the header, row fields within a row); else 1
// with *fault set. pp_run_loop may only be called with a ring that passed.
int pp_loop_check(const struct pp_loop_ring* r, const struct pp_loop_sizes* n, struct pp_loop_fault* fault);

// The CPU window's state, kept by the caller across calls: win = [head, size, ts x cap, cpu x cap];
// head and size are passed as checked integers (win may be shared memory that another thread
// writes, so its first two cells are not read again here) and written back on return.
struct pp_loop_window {
  double* win;
  int cap, head, size;
};

// Tick until stopped, paused, the target is gone, or max_ms elapsed. *next_seq: the sequence
// number of the next record (in and out). *deadline: the last deadline (in and out; 0 starts a
// new grid, at once when sample_first), so that calls in a row keep one drift-free grid.
// *pending_pss: a PSS reading the caller took (src/probe/pss.ts) for the next record, NaN for
// none; the first record takes it and sets it to NaN, so every other record's PSS is NaN.
int pp_run_loop(struct pp_target* t, const struct pp_loop_ring* r, double interval_ms, double window_ms,
                int sample_first, double max_ms, const struct pp_loop_window* w, double* next_seq, double* deadline,
                int* last_status, double* pending_pss);

#endif  // PROCPROBE_LOOP_H_
