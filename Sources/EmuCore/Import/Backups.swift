import EmuPOSIX
import EmuRecords

/// The backup folders other tools leave, found and dated for `emu import`.
public enum BackupLayout: String, CaseIterable, Sendable {
    /// rsnapshot's snapshot_root: hourly.0, daily.3, ... dated by their mtimes
    /// (rsnapshot touches each new interval.0).
    case rsnapshot
    /// rsync-time-backup's destination: YYYY-MM-DD-HHMMSS folders beside a `backup.marker`.
    case rsyncTimeBackup = "rsync-time-backup"
    /// Folders named on the command line, dated by their names or mtimes.
    case dirs
}

/// One folder to import, and the date its snapshot gets.
public struct Backup: Sendable {
    public let path: String
    public let date: Timestamp
    /// What the message of its snapshot says it was.
    public let label: String

    public init(path: String, date: Timestamp, label: String) { (self.path, self.date, self.label) = (path, date, label) }
}

/// The backups `layout` holds under `paths` (one root, or the folders for
/// `dirs`), oldest first. Unfinished ones are left out and named in `skipped`.
public func findBackups(_ layout: BackupLayout, in paths: [String], skipped: inout [String]) throws -> [Backup] {
    var found: [Backup] = []
    switch layout {
    case .rsnapshot:
        let root = try onlyRoot(paths, layout)
        for name in try folderNames(in: root) where isRsnapshotInterval(name) {
            found.append(Backup(path: root + "/" + name, date: try modified(root + "/" + name), label: "rsnapshot \(name)"))
        }
    case .rsyncTimeBackup:
        let root = try onlyRoot(paths, layout)
        guard entryExists(root + "/backup.marker") else {
            throw EmuError.usage("\(root) has no backup.marker: it is not an rsync-time-backup destination",
                                 fix: "name the folder that holds backup.marker and the YYYY-MM-DD-HHMMSS folders")
        }
        var dated = try folderNames(in: root).compactMap { name in dateInName(name).map { (name, $0) } }.sorted { $0.1 < $1.1 }
        // The tool marks a run under way (or killed) with backup.inprogress; its newest folder is unfinished.
        if entryExists(root + "/backup.inprogress"), let unfinished = dated.popLast() { skipped.append(root + "/" + unfinished.0) }
        found = dated.map { Backup(path: root + "/" + $0.0, date: $0.1, label: "rsync-time-backup \($0.0)") }
    case .dirs:
        for path in paths {
            guard isDirectory(path) else {
                throw EmuError.usage("\(path) is not a directory", fix: "name backup folders, one snapshot each")
            }
            let name = String(absolutePath(path).split(separator: "/").last ?? "")
            found.append(Backup(path: absolutePath(path), date: try dateInName(name) ?? modified(path), label: "folder \(name)"))
        }
    }
    return found.sorted { $0.date < $1.date }
}

private func onlyRoot(_ paths: [String], _ layout: BackupLayout) throws -> String {
    guard paths.count == 1, isDirectory(paths[0]) else {
        throw EmuError.usage("`emu import \(layout.rawValue)` takes one directory, the tool's backup root",
                             fix: "name the folder that holds the backups")
    }
    return absolutePath(paths[0])
}

private func folderNames(in root: String) throws -> [String] {
    try DirectoryHandle.open(root).entries().map { String(decoding: $0.name.bytes, as: UTF8.self) }
        .filter { isDirectory(root + "/" + $0) }
}

/// interval.N: a lowercase name, a dot, a number (not rsnapshot's _delete.PID or .sync).
package func isRsnapshotInterval(_ name: String) -> Bool {
    let parts = name.split(separator: ".", omittingEmptySubsequences: false)
    return parts.count == 2 && !parts[0].isEmpty && parts[0].allSatisfy { $0.isLowercase && $0.isLetter }
        && !parts[1].isEmpty && parts[1].allSatisfy(\.isNumber)
}

/// A date a folder's name spells: YYYY-MM-DD-HHMMSS (rsync-time-backup),
/// YYYY-MM-DD HH.MM.SS (an emu snapshot), YYYY-MM-DD[ HH:MM[:SS]]; local time.
package func dateInName(_ name: String) -> Timestamp? {
    guard name.count >= 10, name.prefix(4).allSatisfy(\.isNumber) else { return nil }
    let digits = Array(name)
    if digits.count == 17, digits[10] == "-", let date = Timestamp.parse(
        "\(String(digits[0..<10])) \(String(digits[11..<13])):\(String(digits[13..<15])):\(String(digits[15..<17]))") {
        return date
    }
    return Timestamp.parse(String(name.map { $0 == "." ? ":" : $0 }))
}

private func modified(_ path: String) throws -> Timestamp {
    guard let status = statusFollowingLinks(path) else {
        throw EmuError.usage("\(path) cannot be read", fix: "check the path and its permissions")
    }
    return Timestamp(seconds: status.modified.seconds)
}

/// Where in each of rsnapshot's interval folders the source's files are:
/// rsnapshot keeps `HOST/<full path>/` (`backup /home/me/ localhost/` is
/// `daily.0/localhost/home/me/`), and the snapshot must hold the source's
/// tree, not that path. `given` (`--path`) is taken as said; else the
/// source's own path under a host, else the one backup point there is
/// (the chain of single folders from a host down). Relative to `newest`.
public func rsnapshotBackupPoint(in newest: String, source: String, given: String?) throws -> (path: String, how: String) {
    if let given {
        let relative = normalized("/" + given).dropFirst()
        guard !relative.isEmpty, isDirectory(newest + "/" + relative) else {
            throw EmuError.usage("--path \(given.quotedForDisplay) is not a folder in \(newest)",
                                 fix: "name the backup point as rsnapshot keeps it, e.g. --path localhost\(source)")
        }
        return (String(relative), "--path")
    }
    let hosts = try folderNames(in: newest).sorted()
    let matching = hosts.filter { isDirectory(newest + "/" + $0 + source) }
    if matching.count == 1 { return (matching[0] + source, "the source's path") }
    let points = try hosts.map { host -> String in
        var point = host
        while let only = try? folderNames(in: newest + "/" + point), only.count == 1,
              (try? DirectoryHandle.open(newest + "/" + point).entries().count) == 1 {
            point += "/" + only[0]
        }
        return point
    }
    guard points.count == 1 else {
        throw EmuError.usage("\(newest) holds \(points.isEmpty ? "no backup point" : "several backup points (\(points.joined(separator: ", ")))"), none of them this source's path",
                             fix: "name the one to import with --path, e.g. --path \(points.first ?? "localhost" + source)")
    }
    return (points[0], "the only backup point")
}
