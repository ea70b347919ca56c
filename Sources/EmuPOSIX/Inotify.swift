import Glibc
import SystemPackage

/// The kernel's inotify: watches on directories and the events they report.
public final class Inotify {
    public struct Event: Sendable {
        public let watch: Int32
        public let mask: UInt32
        /// The entry of the watched directory the event is about; nil when it is about the directory itself.
        public let name: FileName?

        public func has(_ flag: Int32) -> Bool { mask & UInt32(bitPattern: flag) != 0 }
    }

    /// What a watched directory reports: entries made, removed, moved, written, or their metadata changed.
    public static let directoryEvents = UInt32(IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_MOVED_FROM
                                               | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW)

    let fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)

    public init() throws {
        fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard fd >= 0 else { throw FileSystemError("start inotify", [], Errno(rawValue: errno)) }
    }

    deinit { Glibc.close(fd) }

    /// Watches the directory at `path`; ENOSPC (the watch limit,
    /// fs.inotify.max_user_watches) comes back as that error.
    public func watch(_ path: [UInt8], mask: UInt32 = directoryEvents) throws -> Int32 {
        let wd = path.withCString { inotify_add_watch(fd, $0, mask) }
        guard wd >= 0 else { throw FileSystemError("watch", path, Errno(rawValue: errno)) }
        return wd
    }

    /// Waits up to `timeout` seconds for events and returns them; none when
    /// the time passed or a signal came.
    public func events(timeout: Double) throws -> [Event] {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&poller, 1, Int32(max(0, min(timeout, 3600)) * 1000))
        if ready < 0 && errno == EINTR { return [] }
        guard ready > 0 else { return [] }
        var events: [Event] = []
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 && (errno == EAGAIN || errno == EINTR) { return events }
            guard count > 0 else { throw FileSystemError("read inotify events", [], Errno(rawValue: errno)) }
            events += parse(count)
        }
    }

    private func parse(_ count: Int) -> [Event] {
        var events: [Event] = []
        buffer.withUnsafeBytes { raw in
            var offset = 0
            let headerSize = MemoryLayout<inotify_event>.size
            while offset + headerSize <= count {
                let wd = raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)
                let mask = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                let length = Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                let nameBytes = raw[(offset + headerSize)..<(offset + headerSize + length)].prefix { $0 != 0 }
                events.append(Event(watch: wd, mask: mask, name: nameBytes.isEmpty ? nil : FileName(Array(nameBytes))))
                offset += headerSize + length
            }
        }
        return events
    }
}
