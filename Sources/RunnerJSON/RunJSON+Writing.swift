// Every object's members in byte order of their keys, as `.sortedKeys` orders them; a nil
// member left out, as synthesized `Encodable` leaves it out.

extension RunJSON: JSONWritable {
    public func write(to json: inout JSONWriter) {
        write(to: &json, steps: steps, attempts: attempts)
    }

    /// The run with `steps` and `attempts` in place of its own: lazy sequences are made one
    /// element at a time while they are written, so a 10,000-step run is never held twice (its
    /// records and their JSON shapes) at the process's memory peak.
    public func write<S: Sequence<Step>, A: Sequence<Attempt>>(to json: inout JSONWriter, steps: S?, attempts: A?) {
        json.object { json in
            json.field("actor", actor)
            if let attempts {
                json.key("attempts")
                json.array(attempts)
            }
            json.field("created_at", createdAt)
            json.field("error_code", errorCode)
            json.field("error_message", errorMessage)
            json.field("finished_at", finishedAt)
            json.field("id", id)
            json.field("params", params)
            json.field("pipeline", pipeline)
            json.field("progress", progress)
            json.field("progress_message", progressMessage)
            json.field("refs", refs)
            json.field("retryable", retryable)
            json.field("started_at", startedAt)
            json.field("status", status)
            if let steps {
                json.key("steps")
                json.array(steps)
            }
            json.field("trigger", trigger)
            json.field("trigger_detail", triggerDetail)
            json.field("wake_at", wakeAt)
        }
    }
}

extension RunJSON.Step: JSONWritable {
    public func write(to json: inout JSONWriter) {
        json.object { json in
            json.field("attempts", attempts)
            json.field("error_code", errorCode)
            json.field("error_message", errorMessage)
            json.field("finished_at", finishedAt)
            json.field("item", item)
            json.field("name", name)
            json.field("outputs", outputs)
            json.field("progress", progress)
            json.field("progress_message", progressMessage)
            json.field("retryable", retryable)
            json.field("section", section)
            json.field("started_at", startedAt)
            json.field("status", status)
            json.field("step", step)
        }
    }
}

extension RunJSON.Attempt: JSONWritable {
    public func write(to json: inout JSONWriter) {
        json.object { json in
            json.field("attempt", attempt)
            json.field("counted", counted)
            json.field("error_code", errorCode)
            json.field("exit_code", exitCode)
            json.field("finished_at", finishedAt)
            json.field("log", log)
            json.field("message", message)
            json.field("serial", serial)
            json.field("signal", signal)
            json.field("started_at", startedAt)
            json.field("step", step)
            json.field("timed_out", timedOut)
        }
    }
}

extension RunJSON.Ref: JSONWritable {
    public func write(to json: inout JSONWriter) {
        json.object { json in
            json.field("ref", ref)
            json.field("repository", repository)
            json.field("sha", sha)
        }
    }
}
