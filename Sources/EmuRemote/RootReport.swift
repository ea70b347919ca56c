import EmuPOSIX
import Glibc
import EmuCore
import EmuRecords

/// What `emu serve --root DIR --report` says of each client's sink under
/// DIR: how many snapshots, the newest, and the bytes only its snapshots
/// hold — what removing that client would free.
public struct ClientReport: Sendable {
    public var name: String
    public var snapshots: Int
    public var newest: Snapshot?
    public var onlyHere: Int64
}

/// Every sink directly under `root`, by name.
public func reportClients(under root: String) throws -> [ClientReport] {
    let directory = try DirectoryHandle.open(root, origin: .sink)
    var reports: [ClientReport] = []
    for entry in try directory.entries().sorted(by: { $0.name < $1.name }) where entry.name.bytes.first != 0x2E {
        let name = Printable.path(entry.name.bytes)
        let path = root + "/" + String(decoding: entry.name.bytes, as: UTF8.self)
        guard isDirectory(path + "/.emu/nodes"), let sink = try Sink.open(SinkRegistration(name: name, path: path)) else { continue }
        let snapshots = try sink.snapshots()
        reports.append(ClientReport(name: name, snapshots: snapshots.count, newest: snapshots.last,
                                    onlyHere: try sink.bytesOnlyHere(snapshots)))
    }
    return reports
}

extension Sink {
    /// The bytes of the inodes every link of which is in this sink's trees
    /// or in the index: no other client's snapshot holds them. Each link
    /// becomes a line `INODE LINKS SIZE`, sorted by sort(1) (which spills to
    /// disk: memory stays flat however many files), and an inode whose
    /// lines number its link count is this client's alone.
    package func bytesOnlyHere(_ snapshots: [Snapshot]) throws -> Int64 {
        let scratch = String(cString: mkdtemp(strdup(scratchDirectory() + "/emu-report.XXXXXX")))
        defer { _ = runProgram("/bin/rm", ["rm", "-rf", scratch], environment: [:], in: "/") }
        let scratchDirectory = try DirectoryHandle.open(scratch)
        let lines = try scratchDirectory.createFile(FileName("links"))
        var text: [UInt8] = []
        func add(_ status: FileStatus, held: Bool) throws {
            text += Array("\(status.inode) \(status.linkCount) \(status.size) \(held ? "S" : "I")\n".utf8)
            if text.count >= 1 << 20 { try lines.writeAll(text); text.removeAll(keepingCapacity: true) }
        }
        var holdsAny = false
        for snapshot in snapshots {
            let scanner = TreeScanner(root: try openTree(snapshot), filter: nil)
            while let record = try scanner.next() {
                guard record.kind == .regular, let status = scanner.lastStatus else { continue }
                try add(status, held: true)
                holdsAny = true
            }
        }
        guard holdsAny else { return 0 }
        try ContentIndex(root: try indexDirectory()).forEachEntry { _, _, status in try add(status, held: false) }
        try lines.writeAll(text)
        lines.close()
        let sorted = runProgram("/usr/bin/sort", ["sort", "-n", "-S", "32M", "-T", scratch, "-o", "sorted", "links"],
                                environment: ["LC_ALL": "C"], in: scratch)
        guard sorted == 0 else { throw EmuError.failed("sort(1) could not sort the links of \(path) (status \(sorted))", fix: "install coreutils") }
        return try Self.bytesOfWholeGroups(try scratchDirectory.openForReading(FileName("sorted")))
    }

    /// Reads the sorted lines: an inode whose lines (one held by the sink at least) are as many as its links.
    package static func bytesOfWholeGroups(_ sorted: OpenFile) throws -> Int64 {
        defer { sorted.close() }
        var total: Int64 = 0
        var group: (inode: Substring, links: Int, size: Int64, seen: Int, held: Bool)? = nil
        func close() { if let group, group.held, group.seen == group.links { total += group.size } }
        var rest: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try sorted.readFully(into: $0) }
            rest += chunk[..<n]
            guard let last = rest.lastIndex(of: 0x0A) else { if n == 0 { break } else { continue } }
            for line in String(decoding: rest[...last], as: UTF8.self).split(separator: "\n") {
                let fields = line.split(separator: " ")
                guard fields.count == 4, let links = Int(fields[1]), let size = Int64(fields[2]) else { continue }
                if group?.inode != fields[0] {
                    close()
                    group = (fields[0], links, size, 0, false)
                }
                group!.seen += 1
                group!.held = group!.held || fields[3] == "S"
            }
            rest.removeFirst(last + 1)
            if n == 0 { break }
        }
        close()
        return total
    }
}

/// Where scratch files go: $TMPDIR, else /tmp.
package func scratchDirectory() -> String {
    getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
}
