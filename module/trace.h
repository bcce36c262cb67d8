/* SPDX-License-Identifier: GPL-2.0 */
/*
 * minihv's tracepoints, KVM's kvm:kvm_entry and kvm:kvm_exit in shape:
 * every entry, every exit with the vendor's raw reason, every event
 * injected, every run that returns to userspace, every APIC register
 * write.  How to read them: Documentation/api.rst, "Tracepoints".
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM minihv

#if !defined(_MINIHV_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _MINIHV_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(minihv_entry,
	TP_PROTO(u32 vcpu_id),
	TP_ARGS(vcpu_id),
	TP_STRUCT__entry(
		__field(u32, vcpu_id)
	),
	TP_fast_assign(
		__entry->vcpu_id = vcpu_id;
	),
	TP_printk("vcpu %u", __entry->vcpu_id)
);

/*
 * @reason: VM_EXIT_REASON on VT-x, EXITCODE on AMD-V; @info1/@info2: the
 * qualification / EXITINFO1-2.
 */
TRACE_EVENT(minihv_exit,
	TP_PROTO(u32 vcpu_id, u64 reason, u64 info1, u64 info2, u64 rip),
	TP_ARGS(vcpu_id, reason, info1, info2, rip),
	TP_STRUCT__entry(
		__field(u32, vcpu_id)
		__field(u64, reason)
		__field(u64, info1)
		__field(u64, info2)
		__field(u64, rip)
	),
	TP_fast_assign(
		__entry->vcpu_id = vcpu_id;
		__entry->reason = reason;
		__entry->info1 = info1;
		__entry->info2 = info2;
		__entry->rip = rip;
	),
	TP_printk("vcpu %u reason %#llx info %#llx %#llx rip %#llx", __entry->vcpu_id,
		  __entry->reason, __entry->info1, __entry->info2, __entry->rip)
);

TRACE_EVENT(minihv_inject,
	TP_PROTO(u32 vcpu_id, u8 vector, bool nmi),
	TP_ARGS(vcpu_id, vector, nmi),
	TP_STRUCT__entry(
		__field(u32, vcpu_id)
		__field(u8, vector)
		__field(bool, nmi)
	),
	TP_fast_assign(
		__entry->vcpu_id = vcpu_id;
		__entry->vector = vector;
		__entry->nmi = nmi;
	),
	TP_printk("vcpu %u %s vector %#x", __entry->vcpu_id,
		  __entry->nmi ? "nmi" : "irq", __entry->vector)
);

/* @exit_reason: MINIHV_EXIT_*, or -errno in @error when the run failed. */
TRACE_EVENT(minihv_userspace_exit,
	TP_PROTO(u32 vcpu_id, u32 exit_reason, int error),
	TP_ARGS(vcpu_id, exit_reason, error),
	TP_STRUCT__entry(
		__field(u32, vcpu_id)
		__field(u32, exit_reason)
		__field(int, error)
	),
	TP_fast_assign(
		__entry->vcpu_id = vcpu_id;
		__entry->exit_reason = exit_reason;
		__entry->error = error;
	),
	TP_printk("vcpu %u reason %u error %d", __entry->vcpu_id,
		  __entry->exit_reason, __entry->error)
);

TRACE_EVENT(minihv_apic,
	TP_PROTO(u32 vcpu_id, u32 reg, u32 val),
	TP_ARGS(vcpu_id, reg, val),
	TP_STRUCT__entry(
		__field(u32, vcpu_id)
		__field(u32, reg)
		__field(u32, val)
	),
	TP_fast_assign(
		__entry->vcpu_id = vcpu_id;
		__entry->reg = reg;
		__entry->val = val;
	),
	TP_printk("vcpu %u write reg %#x val %#x", __entry->vcpu_id, __entry->reg, __entry->val)
);

#endif /* _MINIHV_TRACE_H */

/* This part must be outside the include guard (include/trace/define_trace.h). */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH module
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
