import FoundationEssentials

/// Pretty, sorted, slashes unescaped: what the CLI prints and the API answers, for the small
/// shapes that stay `Encodable` (a run is written by `JSONWriter`).
public enum JSONOutput {
    public static func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return "{}\n" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
