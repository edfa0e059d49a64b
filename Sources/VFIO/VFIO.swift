// VFIO module: see the object files.
