import FoundationEssentials
import RunnerCore

/// One output stream of a process. Secrets are masked on the bytes as they come, a secret
/// cut across two reads (or two writes of the step) included (`SecretMasker.Stream`), before
/// anything reaches the log, the stderr tail or the live output.
final class Stream: @unchecked Sendable {
    let fd: Int32
    let isError: Bool
    let log: LogFile
    let process: ChildProcess
    let masking: SecretMasker.Stream?
    let echo: (@Sendable (String, Bool) -> Void)?
    /// The end of a UTF-8 character cut by a read, kept for the live output (the log gets the
    /// bytes as they are).
    private var partialCharacter: [UInt8] = []

    init(fd: Int32, isError: Bool, log: LogFile, process: ChildProcess, masker: SecretMasker,
         echo: (@Sendable (String, Bool) -> Void)?) {
        self.fd = fd
        self.isError = isError
        self.log = log
        self.process = process
        self.masking = masker.isEmpty ? nil : SecretMasker.Stream(masker)
        self.echo = echo
    }

    func consume(_ bytes: UnsafeRawBufferPointer) {
        guard let masking else { return pass(bytes) }
        let masked = masking.feed(bytes)
        masked.withUnsafeBytes { pass($0) }
    }

    /// The stream ended: what the masking held back goes out.
    func finish() {
        if let rest = masking?.finish(), !rest.isEmpty { rest.withUnsafeBytes { pass($0) } }
        if !partialCharacter.isEmpty, let echo {
            echo(String(decoding: partialCharacter, as: UTF8.self), isError)
            partialCharacter = []
        }
    }

    private func pass(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        log.write(bytes)
        if isError { process.appendStderr(Data(bytes)) }
        guard let echo else { return }
        var text = partialCharacter + bytes
        let cut = Self.incompleteTail(text)
        partialCharacter = Array(text[(text.count - cut)...])
        text.removeLast(cut)
        if !text.isEmpty { echo(String(decoding: text, as: UTF8.self), isError) }
    }

    /// How many bytes at the end of `bytes` begin a UTF-8 character that is not complete yet.
    static func incompleteTail(_ bytes: [UInt8]) -> Int {
        var n = 0
        for byte in bytes.reversed().prefix(3) {
            n += 1
            if byte & 0xC0 == 0x80 { continue }  // a continuation byte: look further back
            let needed = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
            return needed > n ? n : 0
        }
        return 0
    }
}
