// Errors carry SystemPackage's `Errno`; re-exported so `import IOMMUFD` alone can name it.
@_exported import SystemPackage
