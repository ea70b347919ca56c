import EmuPOSIX
import Glibc
import SystemPackage
import EmuRecords

/// A diff's renames: each added file, in path order, takes the next deleted
/// file of the same content not taken yet. Empty files take no part: they
/// all share one content, and pairing them would say nothing (git holds the
/// same). It also settles which added files' bytes the old side already
/// stores (an old file with the same content-index key), for the summary.
///
/// Memory does not grow with the changes. One pass over both sides finds
/// the candidates (added and deleted files); when there are more than
/// `budget`, they and their paths wait in scratch space, and are paired one
/// part of the hash space at a time. Added files left unpaired are looked
/// for on the old side by the caller's pass, or, when more than `budget` of
/// them pile up, by a pass over the old side of their own. What is kept to
/// the end is 40 bytes a rename.
package struct Renames {
    /// Renames by their new path's hash, with where both paths wait in `paths`.
    private var byNewPath: [(hash: Int, new: Int64, old: Int64)] = []
    /// Renamed-away paths by their hash, with where each waits in `paths`.
    private var byOldPath: [(hash: Int, old: Int64)] = []
    private let paths = ScratchSpace()
    private let budget: Int
    /// Added files no deleted file held, whose bytes the old side may hold.
    private var unpaired = HeldContent()
    /// Bytes of added files that passes before the caller's found held.
    private var bytesHeldEarlier: Int64 = 0

    /// A deleted or added file that may be one side of a rename.
    private struct Candidate {
        package var isAdded: Bool
        /// An added file's content-index key; a deleted file's content.
        package var key: ContentIndex.Key
        package var size: Int64
        package var pathHash: Int
        /// Where its path waits in `paths`: offsets grow in path order.
        package var path: Int64
    }

    private init(budget: Int) { self.budget = max(budget, 1) }

    package static func find(from old: DiffSide, to new: DiffSide, inScope: (RelativePath) -> Bool, budget: Int) throws -> Renames {
        var renames = Renames(budget: budget)
        var candidates: [Candidate] = []
        var spilled: ScratchSpace? = nil
        var count = 0
        try merge(old, new) { o, n in
            guard let candidate = try renames.candidate(o, n, old: old, new: new, inScope: inScope) else { return }
            count += 1
            if spilled == nil, candidates.count == renames.budget {
                let scratch = ScratchSpace()
                for candidate in candidates { try scratch.append(value: candidate) }
                spilled = scratch
                candidates = []
            }
            if let spilled { try spilled.append(value: candidate) } else { candidates.append(candidate) }
        }
        if let spilled {
            var parts = 2
            while parts < 2 * count / renames.budget + 1 { parts *= 2 }
            for part in 0..<parts {
                try renames.pair(spilled.values { (file: Candidate) in file.key.content.part(of: parts) == part }, old: old)
            }
        } else {
            try renames.pair(candidates, old: old)
        }
        renames.unpaired.seal()
        renames.byNewPath.sort { $0.hash < $1.hash }
        renames.byOldPath.sort { $0.hash < $1.hash }
        return renames
    }

    private func candidate(_ o: ManifestRecord?, _ n: ManifestRecord?, old: DiffSide, new: DiffSide,
                           inScope: (RelativePath) -> Bool) throws -> Candidate? {
        func isCandidate(_ record: ManifestRecord) -> Bool { record.kind == .regular && record.size > 0 && inScope(record.path) }
        if let o, n == nil, isCandidate(o) {
            guard let content = try old.contentHash(o) else { return nil }
            return Candidate(isAdded: false, key: ContentIndex.Key(content: content, metadata: content), size: o.size,
                             pathHash: Self.hash(o.path), path: try paths.append(path: o.path))
        }
        if var n, o == nil, isCandidate(n) {
            n.content = try new.contentHash(n)
            if n.attributes == nil { n.attributes = try new.attributes(n) }
            guard let key = ContentIndex.Key(n) else { return nil }
            return Candidate(isAdded: true, key: key, size: n.size, pathHash: Self.hash(n.path), path: try paths.append(path: n.path))
        }
        return nil
    }

    /// Pairs candidates of the contents they hold (all of each content's);
    /// the added files left wait to be looked for on the old side.
    private mutating func pair(_ candidates: consuming [Candidate], old: DiffSide) throws {
        var sorted = candidates
        sorted.sort { ($0.key.content, $0.path) < ($1.key.content, $1.path) }
        var start = 0
        while start < sorted.count {
            var end = start
            while end < sorted.count, sorted[end].key.content == sorted[start].key.content { end += 1 }
            let deleted = sorted[start..<end].filter { !$0.isAdded }
            var next = deleted.startIndex
            for file in sorted[start..<end] where file.isAdded {
                if next < deleted.endIndex {
                    byNewPath.append((file.pathHash, file.path, deleted[next].path))
                    byOldPath.append((deleted[next].pathHash, deleted[next].path))
                    next += 1
                } else {
                    unpaired.add(file.key, size: file.size)
                }
            }
            start = end
        }
        if unpaired.count > budget {
            unpaired.seal()
            try old.restart()
            while let record = try old.next() { try unpaired.look(at: record, on: old) }
            bytesHeldEarlier += unpaired.bytesFound
            unpaired = HeldContent()
        }
    }

    /// For every record of the old side, in the caller's pass: whether it
    /// holds what an added file that is no rename holds.
    package mutating func lookForHeldContent(_ record: ManifestRecord, on old: DiffSide) throws {
        try unpaired.look(at: record, on: old)
    }

    /// Bytes of added files (not renames) that the old side already stores,
    /// once the caller's pass has shown them all to `lookForHeldContent`.
    package var bytesHeld: Int64 { bytesHeldEarlier + unpaired.bytesFound }

    /// Where the file now at `path` was, when it is a rename.
    package func oldPath(of path: RelativePath) throws -> RelativePath? {
        let hash = Self.hash(path)
        var i = lowerBound(byNewPath.count) { byNewPath[$0].hash < hash }
        while i < byNewPath.count, byNewPath[i].hash == hash {
            if try paths.path(at: byNewPath[i].new) == path { return try paths.path(at: byNewPath[i].old) }
            i += 1
        }
        return nil
    }

    /// Whether the file that was at `path` was renamed (and so is not deleted).
    package func isRenamedAway(_ path: RelativePath) throws -> Bool {
        let hash = Self.hash(path)
        var i = lowerBound(byOldPath.count) { byOldPath[$0].hash < hash }
        while i < byOldPath.count, byOldPath[i].hash == hash {
            if try paths.path(at: byOldPath[i].old) == path { return true }
            i += 1
        }
        return false
    }

    private static func hash(_ path: RelativePath) -> Int {
        var hasher = Hasher()
        path.bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        return hasher.finalize()
    }
}

/// The first index in 0..<count for which `isBelow` is false, when it is
/// true for a prefix and false for the rest.
private func lowerBound(_ count: Int, isBelow: (Int) -> Bool) -> Int {
    var low = 0, high = count
    while low < high {
        let middle = (low + high) / 2
        if isBelow(middle) { low = middle + 1 } else { high = middle }
    }
    return low
}

/// Added files whose bytes the old side may hold already, by content-index
/// key: what a pass over the old side looks for, and what it found. Sorted
/// arrays, not sets: a third of the memory.
private struct HeldContent {
    private var files: [(key: ContentIndex.Key, size: Int64, found: Bool)] = []
    /// The files' sizes: a record of another size needs no hash.
    private var sizes: [Int64] = []

    package var count: Int { files.count }

    package mutating func add(_ key: ContentIndex.Key, size: Int64) {
        files.append((key, size, false))
        sizes.append(size)
    }

    /// Sorts for `look`; after the last `add`.
    package mutating func seal() {
        files.sort { $0.key.content < $1.key.content }
        sizes.sort()
    }

    package mutating func look(at record: ManifestRecord, on side: DiffSide) throws {
        guard record.kind == .regular, !files.isEmpty else { return }
        let size = record.size
        guard sizes[lowerBound(sizes.count) { sizes[$0] < size }...].first == size,
              let content = try side.contentHash(record) else { return }
        var i = lowerBound(files.count) { files[$0].key.content < content }
        guard i < files.count, files[i].key.content == content else { return }
        var withContent = record
        withContent.content = content
        withContent.attributes = try side.attributes(record)
        guard let key = ContentIndex.Key(withContent) else { return }
        while i < files.count, files[i].key.content == content {
            if files[i].key == key { files[i].found = true }
            i += 1
        }
    }

    package var bytesFound: Int64 { files.reduce(0) { $0 + ($1.found ? $1.size : 0) } }
}

/// Bytes set aside to be read back by offset: in memory up to a limit, then
/// in a scratch file in $TMPDIR (else /tmp), so that holding many costs no
/// memory. It holds paths (each its length in 4 bytes, then its bytes) or
/// fixed-size values.
package final class ScratchSpace {
    package let memoryLimit: Int
    /// The bytes from `bytesInFile` on, not written yet.
    private var buffer: [UInt8] = []
    private var file: OpenFile? = nil
    private var bytesInFile: Int64 = 0

    /// Where the scratch file goes ($TMPDIR, else /tmp, unless given):
    /// asked once, for it names the file in errors too.
    package let directory: [UInt8]

    package init(memoryLimit: Int = 1 << 20, directory: String? = nil) {
        self.memoryLimit = memoryLimit
        if let directory {
            self.directory = directory.fileSystemBytes
        } else if let tmpdir = getenv("TMPDIR"), tmpdir.pointee != 0 {
            self.directory = Array(UnsafeBufferPointer(start: UnsafeRawPointer(tmpdir).assumingMemoryBound(to: UInt8.self), count: strlen(tmpdir)))
        } else {
            self.directory = Array("/tmp".utf8)
        }
    }

    deinit { file?.close() }

    package var count: Int64 { bytesInFile + Int64(buffer.count) }

    package func append(_ bytes: UnsafeRawBufferPointer) throws {
        buffer.append(contentsOf: bytes)
        try writeOutWhenFull()
    }

    private func writeOutWhenFull() throws {
        if buffer.count >= memoryLimit {
            if file == nil { file = try DirectoryHandle.open(String(fileSystemBytes: directory)).createScratchFile() }
            try buffer.withUnsafeBytes { try file!.writeAll($0, at: bytesInFile) }
            bytesInFile += Int64(buffer.count)
            buffer.removeAll(keepingCapacity: true)
        }
    }

    /// Fills `out` with the bytes from `offset`, all of which were appended.
    package func read(into out: UnsafeMutableRawBufferPointer, at offset: Int64) throws {
        var done = 0
        if offset < bytesInFile {
            done = min(out.count, Int(bytesInFile - offset))
            let read = try file!.readFully(into: UnsafeMutableRawBufferPointer(rebasing: out[..<done]), at: offset)
            guard read == done else { throw FileSystemError("read", directory, .ioError) }
        }
        if done < out.count {
            let start = Int(offset - bytesInFile) + done
            buffer.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: out[done...]).copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[start..<(start + out.count - done)])) }
        }
    }

    /// Sets a path aside; returns where it waits.
    package func append(path: RelativePath) throws -> Int64 {
        let offset = count
        try withUnsafeBytes(of: UInt32(path.bytes.count).littleEndian) { try append($0) }
        try path.bytes.withUnsafeBytes { try append($0) }
        return offset
    }

    package func path(at offset: Int64) throws -> RelativePath {
        var length: UInt32 = 0
        try withUnsafeMutableBytes(of: &length) { try read(into: $0, at: offset) }
        return RelativePath(try [UInt8](unsafeUninitializedCapacity: Int(UInt32(littleEndian: length))) { out, count in
            try read(into: UnsafeMutableRawBufferPointer(out), at: offset + 4)
            count = out.count
        })
    }

    /// Sets aside a value of a type with no references, such as a struct of numbers.
    package func append<Value>(value: Value) throws {
        withUnsafeBytes(of: value) { buffer.append(contentsOf: $0) }
        // Read back a stride at a time: the padding after the value too.
        buffer.append(contentsOf: repeatElement(0, count: MemoryLayout<Value>.stride - MemoryLayout<Value>.size))
        try writeOutWhenFull()
    }

    /// The values set aside (all of one type, nothing else) that `isIncluded`
    /// keeps, read back in order a few at a time.
    package func values<Value>(where isIncluded: (Value) -> Bool) throws -> [Value] {
        var kept: [Value] = []
        var offset: Int64 = 0
        while offset < count {
            let n = min(1024, Int((count - offset) / Int64(MemoryLayout<Value>.stride)))
            let chunk = try [Value](unsafeUninitializedCapacity: n) { out, initialized in
                try read(into: UnsafeMutableRawBufferPointer(out), at: offset)
                initialized = n
            }
            kept += chunk.filter(isIncluded)
            offset += Int64(n * MemoryLayout<Value>.stride)
        }
        return kept
    }
}
