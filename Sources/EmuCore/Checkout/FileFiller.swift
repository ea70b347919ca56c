import EmuPOSIX
import Synchronization
import SystemPackage
import EmuRecords

/// Restores files on a second core, for a checkout into an empty directory,
/// whose tree is built in a staging directory (nothing in it shows until the
/// whole tree moves into place). The walk makes the directories and hands
/// over the files of some of them, those that arrive while this thread is
/// not behind; this thread opens each in the snapshot's tree, creates it,
/// copies its data in the kernel and sets its metadata. Each directory's
/// files are made by one thread: two cores creating files in one directory
/// would wait on each other for its lock. A directory whose files came here
/// has its metadata set here too, after them, so that its mtime is the last
/// change to it.
///
/// The first error stops it; the walk hears of it at its next hand-over or
/// at `finish`.
package final class FileFiller {
    package enum Step {
        case file(FileJob)
        case directory(FinishedDirectory)
        /// Work that reads a server's answer, which comes in the order asked.
        case task(() throws -> Void)
    }

    /// A file to restore: created in the target, filled from the snapshot's
    /// tree, given its metadata, closed, and renamed into place.
    package struct FileJob {
        package var tree: TreeDirectory
        package var name: FileName
        package var target: DirectoryHandle
        /// The name to create it under: a temporary one, or its own in a staged tree.
        package var outputName: FileName
        /// The name to rename it to when it is whole; nil in a staged tree.
        package var finalName: FileName?
        package var metadata: EntryMetadata
        /// Whether the xattrs (and ACLs) must be read from the tree's file first.
        package var readsAttributes: Bool
        /// The mode to create it with.
        package var permissions: UInt32
        /// Whether the target hands down nothing (see `EntryMetadata.Created`).
        package var handsDownNothing: Bool
        /// An empty file needs no copy, nor a look at its blocks.
        package var isEmpty: Bool
    }

    private let steps: StepThread<Step>
    /// Files handed over and not restored yet.
    private let backlog = Backlog()

    /// `stepsPerBatch`: more for a server's tree, where what is queued is
    /// also what is asked ahead, the window of requests in flight;
    /// `beforeHandoff` sends those requests, gathered, before their batch goes.
    package init(stepsPerBatch: Int = 16, beforeHandoff: @escaping () throws -> Void = {}) {
        let copier = DataCopier()
        let backlog = backlog
        steps = StepThread(threaded: true, stepsPerBatch: stepsPerBatch,
                           take: { step in
                               switch step {
                               case .file(let job):
                                   defer { backlog.count.subtract(1, ordering: .relaxed) }
                                   try Self.restore(job, copier: copier)
                               case .directory(let directory):
                                   try directory.apply()
                               case .task(let work):
                                   try work()
                               }
                           },
                           release: { _ in })
        steps.beforeHandoff = beforeHandoff
    }

    /// Restores one file, on whichever thread calls it.
    package static func restore(_ job: FileJob, copier: DataCopier) throws {
        let output = try job.target.createFile(job.outputName, permissions: job.permissions)
        do {
            defer { output.close() }
            try fill(output, job, copier: copier)
        } catch {
            if job.finalName != nil { try? job.target.remove(job.outputName) }
            throw error
        }
        if let finalName = job.finalName { try job.target.rename(job.outputName, to: job.target, as: finalName) }
    }

    package static func fill(_ output: OpenFile, _ job: FileJob, copier: DataCopier) throws {
        var metadata = job.metadata
        let created = EntryMetadata.Created.made(with: job.permissions, handsDownNothing: job.handsDownNothing)
        try job.tree.restoreFile(job.name, into: output, copyingBytes: !job.isEmpty, readsAttributes: job.readsAttributes,
                                 copier: copier) { attributes, aclSource in
            if let attributes { metadata.attributes = attributes }
            try metadata.apply(to: .open(output), aclSource: aclSource, created: created)
        }
    }

    /// Whether this thread has enough queued that the walk should make the
    /// next directory's files itself.
    package var isBehind: Bool { backlog.count.load(ordering: .relaxed) >= 32 }

    /// Queues a step.
    package func add(_ step: Step) throws {
        if case .file = step { backlog.count.add(1, ordering: .relaxed) }
        try steps.submit(step)
    }

    /// Waits until every queued step is taken: for a file with other names,
    /// whose first name may be one this thread has yet to make.
    package func drain() throws { try steps.drain() }

    /// Waits until every queued step is taken, and stops the thread.
    package func finish() throws { try steps.finish() }
}
