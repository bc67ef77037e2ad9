import Dispatch

/// Drops the last reference to a large graph of objects on another thread: freeing it (a large
/// pipeline's syntax tree, object by object) is then off the way of what the caller does next.
/// The caller must hold no other reference.
public enum BackgroundRelease {
    private final class Holder: @unchecked Sendable {
        var object: AnyObject?
        init(_ object: AnyObject) { self.object = object }
    }

    public static func release(_ object: consuming AnyObject?) {
        guard let object = consume object else { return }
        let holder = Holder(object)
        DispatchQueue.global(qos: .utility).async { holder.object = nil }
    }
}
