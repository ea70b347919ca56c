import EmuPOSIX
import EmuCore
import EmuRecords

/// A first push to a sink whose content index holds nothing: no question
/// about a new file can be answered but "send it", so none is asked. Each
/// file is read once: its xattrs, then its bytes, hashed as they cross (the
/// server hashes what it receives, as for every file); a second copy of the
/// same bytes in the source crosses again, and the server links it to the
/// first. The questions would have cost a read of every file before it was
/// sent, and a hash on each side.
extension PushBatches {
    /// Whether `file` is sent unasked, read once.
    package func readsOnce(_ file: PlannedFile) -> Bool { !asksAboutContent && !file.isHashed }

    package func sendReadOnce(_ file: PlannedFile) throws {
        var file = file
        let input: OpenFile
        do {
            input = try file.directory.openForReading(file.name)
            do { file.attributes = try ExtendedAttributes.read(.file(input)) } catch { input.close(); throw error }
        } catch where isSourceError(error) {
            observer.skipped(file.record.path, because: error)
            return try channel.writer.send(Frame(.data, PushEntry.skipped(file.record.path).payload))
        }
        defer { input.close() }
        try channel.writer.send(Frame(.data, PushEntry.entry(.file, file.record, attributes: file.attributes, leads: file.leads).payload))
        var hasher = ContentHasher()
        guard let length = try sendBytes(of: input, path: file.record.path, consume: { hasher.update($0) }) else { return }
        file.record.size = length
        file.record.content = hasher.finalize()
        prediction?.add(.file, file.record, attributes: file.attributes, leads: file.leads)
        observer.copied(file.record.path, reason: file.isNew ? .new : .content, bytes: file.record.size)
    }
}
