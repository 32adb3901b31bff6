// The sampler's native loop (loop.cc): the ring's memory and offsets as JavaScript passes them.
#ifndef PROCPROBE_LOOP_H_
#define PROCPROBE_LOOP_H_

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
  int32_t r_seq, r_status, r_lag, r_processes, r_row, r_gauges;
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

// Tick until stopped, paused, the target is gone, or max_ms elapsed. *next_seq: the sequence
// number of the next record (in and out). *deadline: the last deadline (in and out; 0 starts a
// new grid, at once when sample_first), so that calls in a row keep one drift-free grid.
// win: the CPU window's state, kept by the caller across calls: [head, size, ts x cap, cpu x cap].
int pp_run_loop(struct pp_target* t, const struct pp_loop_ring* r, double interval_ms, double window_ms,
                int sample_first, double max_ms, double* win, int win_cap, double* next_seq, double* deadline,
                int* last_status);

#endif  // PROCPROBE_LOOP_H_
