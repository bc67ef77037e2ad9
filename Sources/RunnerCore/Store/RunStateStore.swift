/// What the engine's executor reaches: runs, leases, cancel flags and the store's health.
public typealias RunStore = RunRecordStore & RunLeases & CancelSignals & StoreHealthReporting

/// The whole run state, as a front door (CLI, server, hooks) holds it. A backend implements
/// every role; `RunStoreConformanceTests` checks each against its contract.
public typealias RunStateStore = RunStore & IdempotencyKeys & AccessTokenStore & AuditLog & ScheduleMarks & RunMetrics
