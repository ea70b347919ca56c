import EmuPOSIX
import Glibc
import SystemPackage

/// A directory whose entries are all made, and the metadata it gets last
/// (after them, since each entry made moves its mtime).
package struct FinishedDirectory {
    package var target: DirectoryHandle
    /// Where its ACLs come from, and its xattrs when `readsAttributes`
    /// (nil: a source directory that could not be opened, whose ACLs come
    /// from the raw xattrs read by name).
    package var source: TreeDirectory?
    package var metadata: EntryMetadata
    package var readsAttributes = false
    package var created: EntryMetadata.Created?
    /// The directory existed: attributes the snapshot does not hold are removed.
    package var mendsExisting = false

    package init(target: DirectoryHandle, source: TreeDirectory?, metadata: EntryMetadata, readsAttributes: Bool = false,
                 created: EntryMetadata.Created? = nil, mendsExisting: Bool = false) {
        (self.target, self.source, self.metadata) = (target, source, metadata)
        (self.readsAttributes, self.created, self.mendsExisting) = (readsAttributes, created, mendsExisting)
    }

    package func apply() throws {
        var metadata = metadata
        if readsAttributes, let source { metadata.attributes = try source.attributes(nil) }
        try metadata.apply(to: .open(target.file), aclSource: source?.aclSource.map { .open($0) }, created: created,
                           mendsExisting: mendsExisting)
    }
}

/// What lives in an inode besides the data: applied to a new entry in one
/// order — owner (which clears setuid bits), mode, xattrs, ACLs (which
/// refine the mode), and the mtime last, since every other change moves it.
package struct EntryMetadata {
    package var owner: UInt32
    package var group: UInt32
    package var permissions: UInt32
    package var modified: FileTime
    package var attributes: [ExtendedAttribute]

    package init(_ record: ManifestRecord, attributes: [ExtendedAttribute]) {
        owner = record.owner
        group = record.group
        permissions = record.permissions
        modified = record.modified
        self.attributes = attributes
    }

    /// An entry to apply metadata to, or to read ACLs from.
    package enum Target {
        /// An open regular file or directory.
        case open(OpenFile)
        /// A symlink, FIFO or device, reached by name.
        case entry(DirectoryHandle, FileName, FileKind)

        package var attributeTarget: AttributeTarget {
            switch self {
            case .open(let file): .file(file)
            case .entry(let directory, let name, _): .entry(directory, name)
            }
        }
    }

    /// Who this process creates entries as: asked once, not per entry.
    package static let processOwner = geteuid()
    package static let processGroup = getegid()

    /// Owners are set when we may: always as root, else only to ourselves.
    package static let isPrivileged = processOwner == 0

    /// The process's umask, which the kernel applies to every mode we create with.
    package static let creationMask: UInt32 = {
        let mask = umask(0o077)
        umask(mask)
        return UInt32(mask)
    }()

    /// What a new entry has from its creation: owner, group and mode that
    /// need no call to set when they are already right.
    package struct Created {
        package var owner: UInt32
        package var group: UInt32
        package var permissions: UInt32

        /// The mode to create an entry with so that no chmod is needed after,
        /// when that is safe: no setuid, setgid or sticky bit (the kernel
        /// drops them on create), and for a directory, room to fill it.
        package static func initialPermissions(for permissions: UInt32, isDirectory: Bool) -> UInt32 {
            let fillable = !isDirectory || permissions & 0o700 == 0o700
            return permissions & 0o7000 == 0 && fillable ? permissions : (isDirectory ? 0o700 : 0o600)
        }

        /// Whether entries made in `directory` (and in directories made there
        /// without setgid or ACLs) take this process's group and the mode they
        /// are made with: no setgid bit, no default ACL to inherit.
        package static func handsDownNothing(_ directory: DirectoryHandle) -> Bool {
            guard let status = try? directory.status(), status.permissions & 0o2000 == 0,
                  let names = try? ExtendedAttributes.names(of: .file(directory.file))
            else { return false }
            return !names.contains(ExtendedAttribute.defaultACL)
        }

        /// What an entry made with `permissions` has, when the directory it
        /// was made in hands down nothing (else nil: unknown).
        package static func made(with permissions: UInt32, handsDownNothing: Bool) -> Created? {
            handsDownNothing ? Created(permissions: permissions) : nil
        }

        /// An entry this process creates with `permissions` in a directory
        /// without the setgid bit (whose group it would take).
        package init(permissions: UInt32) {
            owner = EntryMetadata.processOwner
            group = EntryMetadata.processGroup
            self.permissions = permissions & ~EntryMetadata.creationMask
        }
    }

    /// Applies everything to `target`; ACLs come through libacl from
    /// `aclSource` when there is one, else from their raw xattr values.
    /// `created`, when given, is what the entry already has: owner and mode
    /// are set only where they differ. `mendsExisting`: the entry existed
    /// before, and attributes (ACLs too) the snapshot does not hold go.
    package func apply(to target: Target, aclSource: Target?, created: Created? = nil, mendsExisting: Bool = false) throws {
        let ownerHolds = created.map { $0.owner == owner && $0.group == group } ?? false
        // chown clears setuid and setgid bits, so a mode must be set after it.
        let modeHolds = ownerHolds && created?.permissions == permissions
        if !ownerHolds && (Self.isPrivileged || owner == Self.processOwner) {
            do {
                switch target {
                case .open(let file): try file.setOwner(owner, group)
                case .entry(let directory, let name, _): try directory.setOwner(name, owner: owner, group: group)
                }
            } catch let error as FileSystemError where error.isNotPermitted || error.isInvalidArgument {
                // Not root and not a member of the group: the record keeps the owner for a root restore.
            }
        }
        if !modeHolds {
            switch target {
            case .open(let file): try file.setPermissions(permissions)
            case .entry(let directory, let name, let kind) where kind != .symlink: try directory.setPermissions(name, permissions)
            case .entry: break
            }
        }
        if mendsExisting {
            try ignoringUnsupported { try ExtendedAttributes.removeOthers(keeping: attributes, from: target.attributeTarget) }
        }
        try ignoringUnsupported { try ExtendedAttributes.write(attributes, to: target.attributeTarget) }
        let hasAccessACL = attributes.contains { $0.name == ExtendedAttribute.accessACL }
        let hasDefaultACL = attributes.contains { $0.name == ExtendedAttribute.defaultACL }
        if hasAccessACL || hasDefaultACL {
            if case .open(let destination) = target, case .open(let source)? = aclSource {
                try ignoringUnsupported {
                    try AccessControlList.copy(from: source, to: destination, hasAccess: hasAccessACL, hasDefault: hasDefaultACL)
                }
            } else {
                // FIFOs and devices: the kernel takes the raw ACL xattrs as libacl would write them.
                try ignoringUnsupported {
                    try ExtendedAttributes.write(attributes.filter(\.isACL), to: target.attributeTarget, includingACLs: true)
                }
            }
        }
        switch target {
        case .open(let file): try file.setModified(modified)
        case .entry(let directory, let name, _): try directory.setModified(name, modified)
        }
    }

    /// A filesystem without xattrs, or an xattr namespace we may not write
    /// (trusted.* as a user), does not fail the entry.
    package func ignoringUnsupported(_ body: () throws -> Void) throws {
        do { try body() } catch let error as FileSystemError
            where error.isUnsupported {}
    }
}
