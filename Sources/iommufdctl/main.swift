import IOMMUFDCtlKit
print("iommufdctl: not yet")
