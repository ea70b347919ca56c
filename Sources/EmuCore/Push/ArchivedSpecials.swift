import EmuPOSIX

/// Symlinks, FIFOs and devices: made in the staging tree as records say.
extension Archiver {
    func archiveSymlink(_ name: FileName, in source: DirectoryHandle, into target: DirectoryHandle, path: RelativePath, status: FileStatus) throws {
        var record = ManifestRecord(path: path, status: status)
        record.symlinkTarget = try source.readSymlink(name)
        let attributes = try attributesByName(name, in: source, path: path, status: status)
        record.attributes = attributesDigest(attributes)
        try target.makeSymlink(name, target: record.symlinkTarget!)
        try EntryMetadata(record, attributes: attributes).apply(to: .entry(target, name, .symlink), aclSource: nil)
        try finisher.submit(.record(record, isFile: false))
        counts.symlinks += 1
    }

    func archiveSpecial(_ name: FileName, in source: DirectoryHandle, into target: DirectoryHandle, path: RelativePath, status: FileStatus) throws {
        var record = ManifestRecord(path: path, status: status)
        if status.kind != .fifo { record.device = DeviceNumber(status.deviceNumber) }
        let attributes = try attributesByName(name, in: source, path: path, status: status)
        record.attributes = attributesDigest(attributes)
        do {
            try target.makeNode(name, kind: status.kind, permissions: 0o600, device: status.deviceNumber)
        } catch let error as FileSystemError where error.isNotPermitted && status.kind != .fifo {
            try finisher.submit(.noted(path, "device skipped (only root can make device files)"))
            return
        }
        try EntryMetadata(record, attributes: attributes).apply(to: .entry(target, name, status.kind), aclSource: nil)
        try finisher.submit(.record(record, isFile: false))
        counts.specials += 1
    }

    /// Attributes of an entry that cannot be opened, read only when its ctime
    /// moved or the last record says it had some.
    func attributesByName(_ name: FileName, in source: DirectoryHandle, path: RelativePath, status: FileStatus) throws -> [ExtendedAttribute] {
        if let previous = previousRecords(at: path).first?.record, previous.isUnchanged(comparedTo: status), previous.attributes == nil {
            return []
        }
        do {
            return try ExtendedAttributes.read(.entry(source, name))
        } catch let error as FileSystemError where error.isUnsupported {
            return []
        }
    }
}
