import EmuPOSIX
import Glibc
import EmuRecords

/// Keeps inotify watches on every directory of a source (what its filter
/// keeps) and gathers, from their events, the directories whose entries
/// changed, for `emu watch`'s pushes (see `QuietDirectories`). When it
/// cannot know (a queue overflow, the watch limit, a directory moved) it
/// says so, and the next push walks everything.
public final class SourceWatcher {
    public enum Trouble: Sendable, Equatable {
        /// The kernel's queue overflowed (IN_Q_OVERFLOW): events were lost.
        case overflow
        /// fs.inotify.max_user_watches was reached: some directories are not watched.
        case watchLimit(watched: Int)
        /// A watched directory was moved: the watches' paths are rebuilt.
        case directoryMoved(RelativePath)
    }

    package let root: String
    package let rootHandle: DirectoryHandle
    package let filter: SourceFilter
    package var inotify: Inotify
    package var paths: [Int32: RelativePath] = [:]
    /// Directories with events since the last `takeChanges`.
    public private(set) var changed: Set<RelativePath> = []
    /// Why the next push must walk everything, if it must.
    public private(set) var trouble: Trouble? = nil
    public var watchedDirectories: Int { paths.count }

    public init(source: Source) throws {
        root = source.path
        rootHandle = try DirectoryHandle.open(source.path)
        filter = try SourceFilter(source: source)
        inotify = try Inotify()
        try watchTree(.root)
    }

    /// What changed since the last call, and starts gathering afresh: the
    /// changed directories, or nil when the push must walk everything (after
    /// trouble, whose watches are then rebuilt).
    public func takeChanges() throws -> Set<RelativePath>? {
        defer { changed = [] }
        guard trouble != nil else { return changed }
        if case .watchLimit = trouble { return nil }  // nothing to rebuild: the limit stays
        trouble = nil
        inotify = try Inotify()
        paths = [:]
        try watchTree(.root)
        return nil
    }

    /// Waits up to `timeout` seconds for events; true when one mattered.
    public func wait(timeout: Double) throws -> Bool {
        var mattered = false
        for event in try inotify.events(timeout: timeout) {
            if try note(event) { mattered = true }
        }
        return mattered
    }

    package func note(_ event: Inotify.Event) throws -> Bool {
        if event.has(IN_Q_OVERFLOW) {
            trouble = .overflow
            return true
        }
        if event.has(IN_IGNORED) { paths[event.watch] = nil }
        guard let directory = paths[event.watch] else { return false }
        guard let name = event.name else {
            // The directory itself: its metadata (its parent's entry) or it moved.
            if event.has(IN_MOVE_SELF) && !directory.isRoot { trouble = trouble ?? .directoryMoved(directory) }
            guard event.has(IN_ATTRIB) else { return false }
            changed.insert(directory)
            if !directory.isRoot { changed.insert(directory.parent) }
            return true
        }
        let path = directory.appending(name)
        let isDirectory = event.has(IN_ISDIR)
        guard !filter.leavesOut(eventAt: path, isDirectory: isDirectory) else { return false }
        changed.insert(directory)
        if isDirectory && event.has(IN_MOVED_FROM) { trouble = trouble ?? .directoryMoved(path) }
        if isDirectory && (event.has(IN_CREATE) || event.has(IN_MOVED_TO)) { try watchTree(path) }
        return true
    }

    /// Watches `path` and every directory below it that the filter keeps.
    package func watchTree(_ path: RelativePath) throws {
        var pending = [path]
        while let next = pending.popLast() {
            do {
                paths[try inotify.watch(next.isRoot ? Array(root.utf8) : Array(root.utf8) + [0x2F] + next.bytes)] = next
            } catch let error as FileSystemError where error.errno == .noSpace {
                trouble = .watchLimit(watched: paths.count)
                return
            } catch let error as FileSystemError where error.isMissing || error.errno == .notDirectory {
                continue  // gone since its event
            }
            guard let directory = next.isRoot ? rootHandle : try? rootHandle.openDirectory(path: next) else { continue }
            for entry in (try? directory.entries()) ?? [] {
                let child = next.appending(entry.name)
                if let status = try? directory.status(entry.name), status.kind == .directory, !filter.leavesOut(child, status) {
                    pending.append(child)
                }
            }
        }
    }
}
