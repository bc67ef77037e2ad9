extension RunRecord {
    /// The params whose values are shown as `***`: the secret names stored with the run. A run
    /// recorded before the names were stored has every param masked: masking fails closed,
    /// and never depends on parsing the run's definition again.
    public var maskedParams: Set<String> {
        secretParams ?? Set(params.keys)
    }

    /// The run's params as they may be shown: secret ones as `***`.
    public var shownParams: [String: Value] {
        let masked = maskedParams
        return params.reduce(into: [:]) { $0[$1.key] = masked.contains($1.key) ? .string("***") : $1.value }
    }
}
