#ifndef RUNNER_CSQLITE_SHIM_H
#define RUNNER_CSQLITE_SHIM_H
#include <sqlite3.h>
/* SQLITE_TRANSIENT is a cast macro Swift cannot import. */
static const sqlite3_destructor_type runner_sqlite_transient = (sqlite3_destructor_type)-1;
/* sqlite3_db_config is variadic, which Swift cannot call: leave the WAL to the next writer's
   automatic checkpoint instead of checkpointing (and syncing twice) in every process's close. */
static inline int runner_sqlite_no_checkpoint_on_close(sqlite3 *db) {
    return sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)0);
}
#endif
