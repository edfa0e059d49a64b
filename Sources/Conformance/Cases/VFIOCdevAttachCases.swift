// VFIO cdev ATTACH / DETACH / DESTROY errno rules on a real edu device (see VFIOCdevCases.swift).
import CIOMMUFD
import Glibc
import IOMMUFD
import SystemPackage
import VFIO

extension VFIOCdevCases {
    // MARK: ATTACH / DETACH / DESTROY

    static func rawAttach(_ dev: borrowing VFIODevice, argsz: UInt32 = 12, flags: UInt32 = 0, pt: UInt32) throws(IOMMUFDError) {
        var cmd = RawCommand(count: 16)
        cmd.set(argsz, at: 0)
        cmd.set(flags, at: 4)
        cmd.set(pt, at: 8)
        try cmd.send(.vfioDeviceAttachIOMMUFDPT, on: dev.fd)
    }

    static let attach: [ConformanceCase] = [
        c("cdev.attach.bad-pt-id", "ATTACH to a pt_id that names no object fails ENOENT") { ctx in
            let rig = try CdevRig(ctx)
            let edu = try BoundEdu(ctx, rig)
            for pt: UInt32 in [0, 0xffff, 0xffff_ffff] {
                try ctx.expectErrno(.noSuchFileOrDirectory, "pt_id \(pt)") {
                    try edu.device.attach(RawPT(rawValue: pt))
                }
            }
        },
        c("cdev.attach.not-a-page-table", "ATTACH to an object that is neither IOAS nor HWPT (the device itself, a fault queue) fails EINVAL (device.c:786)") { ctx in
            let rig = try CdevRig(ctx)
            let edu = try BoundEdu(ctx, rig)
            try ctx.expectErrno(.invalidArgument, "pt_id = own device id") {
                try edu.device.attach(RawPT(rawValue: edu.id.rawValue))
            }
            if ctx.kernel >= "6.11" {
                let q = try ctx.step("FAULT_QUEUE_ALLOC") { try rig.iommufd.allocFaultQueue() }
                try ctx.expectErrno(.invalidArgument, "pt_id = fault queue") {
                    try edu.device.attach(RawPT(rawValue: q.id.rawValue))
                }
            }
        },
        c("cdev.attach.flags", "ATTACH with flags != 0 or argsz < 12 fails EINVAL; DETACH likewise with flags != 0 or argsz < 8") { ctx in
            let rig = try CdevRig(ctx)
            let edu = try BoundEdu(ctx, rig)
            let ioas = try ctx.step("IOAS_ALLOC") { try rig.iommufd.allocIOAS() }
            try ctx.expectErrno(.invalidArgument, "ATTACH flags 1<<31") {
                try rawAttach(edu.device, flags: 1 << 31, pt: ioas.id.rawValue)
            }
            try ctx.expectErrno(.invalidArgument, "ATTACH argsz 8") {
                try rawAttach(edu.device, argsz: 8, pt: ioas.id.rawValue)
            }
            try ctx.expectOK("ATTACH argsz 12 flags 0") {
                try rawAttach(edu.device, pt: ioas.id.rawValue)
            }
            var detach = RawCommand(count: 8)
            detach.set(UInt32(8), at: 0)
            detach.set(UInt32(1 << 31), at: 4)
            try ctx.expectErrno(.invalidArgument, "DETACH flags 1<<31") {
                try detach.send(.vfioDeviceDetachIOMMUFDPT, on: edu.device.fd)
            }
            var short = RawCommand(count: 8)
            short.set(UInt32(4), at: 0)
            try ctx.expectErrno(.invalidArgument, "DETACH argsz 4") {
                try short.send(.vfioDeviceDetachIOMMUFDPT, on: edu.device.fd)
            }
            try ctx.expectOK("DETACH") { try edu.device.detach() }
        },
        c("cdev.attach.replace-cycle", "attach IOAS, replace with a HWPT on it, detach, attach again: each step succeeds and reports the attached HWPT") { ctx in
            let rig = try CdevRig(ctx)
            let edu = try BoundEdu(ctx, rig)
            let ioas = try ctx.step("IOAS_ALLOC") { try rig.iommufd.allocIOAS() }
            let auto = try ctx.expectOK("attach IOAS") { try edu.device.attach(ioas.id) }
            try ctx.check(auto.rawValue != ioas.id.rawValue && auto.rawValue != 0, "attach returned \(auto), not a new HWPT id")
            let hwpt = try ctx.expectOK("HWPT_ALLOC on the IOAS") {
                try rig.iommufd.allocHWPT(device: edu.id, ioas: ioas.id)
            }
            let replaced = try ctx.expectOK("attach HWPT (replace)") { try edu.device.attach(hwpt.id) }
            try ctx.checkEqual(replaced, hwpt.id, "pt_id after replace")
            // The auto HWPT was freed by the replace: its id no longer names anything.
            try ctx.expectErrno(.noSuchFileOrDirectory, "attach the released auto HWPT id") {
                try edu.device.attach(auto)
            }
            try ctx.expectErrno(.resourceBusy, "DESTROY the attached HWPT") {
                try rig.iommufd.destroy(hwpt.id)
            }
            try ctx.expectOK("detach") { try edu.device.detach() }
            try ctx.expectOK("detach again (no-op)") { try edu.device.detach() }
            let again = try ctx.expectOK("attach IOAS again") { try edu.device.attach(ioas.id) }
            try ctx.check(again.rawValue != 0, "attach returned id 0")
            try ctx.expectOK("replace back to the explicit HWPT") { try edu.device.attach(hwpt.id) }
            try ctx.expectOK("detach") { try edu.device.detach() }
            let hwptID = hwpt.release()
            try ctx.expectOK("DESTROY the detached HWPT") { try rig.iommufd.destroy(hwptID) }
        },
        c("cdev.destroy.attached-ioas", "DESTROY of an IOAS with an attached device, or of the auto HWPT, fails EBUSY; after DETACH the IOAS can be destroyed") { ctx in
            let rig = try CdevRig(ctx)
            let edu = try BoundEdu(ctx, rig)
            let ioas = try ctx.step("IOAS_ALLOC") { try rig.iommufd.allocIOAS() }
            let id = ioas.release()
            let hwpt = try ctx.step("attach") { try edu.device.attach(id) }
            try ctx.expectErrno(.resourceBusy, "DESTROY IOAS") { try rig.iommufd.destroy(id) }
            try ctx.expectErrno(.resourceBusy, "DESTROY auto HWPT") { try rig.iommufd.destroy(hwpt) }
            try ctx.expectOK("DETACH") { try edu.device.detach() }
            try ctx.expectErrno(.noSuchFileOrDirectory, "the auto HWPT is gone after DETACH") {
                try rig.iommufd.destroy(hwpt)
            }
            try ctx.expectOK("DESTROY IOAS") { try rig.iommufd.destroy(id) }
        },
        c("cdev.destroy.bound-device", "DESTROY of a VFIO-bound device's id fails EBUSY (VFIO holds it); the binding keeps working") { ctx in
            let rig = try CdevRig(ctx)
            let edu = try BoundEdu(ctx, rig)
            try ctx.expectErrno(.resourceBusy, "DESTROY device id") { try rig.iommufd.destroy(edu.id) }
            try ctx.expectOK("GET_INFO still works") { try edu.device.info() }
        },
        c("cdev.attach.pasid-6.12", "ATTACH with VFIO_DEVICE_ATTACH_PASID fails EINVAL before 6.15 (flags must be 0)") { ctx in
            guard ctx.kernel < "6.15" else { try ctx.skip("PASID attach exists from 6.15; this case checks the older answer") }
            let rig = try CdevRig(ctx)
            let edu = try BoundEdu(ctx, rig)
            let ioas = try ctx.step("IOAS_ALLOC") { try rig.iommufd.allocIOAS() }
            try ctx.expectErrno(.invalidArgument, "ATTACH pasid 1") {
                try edu.device.attach(pasid: 1, to: ioas.id)
            }
            try ctx.expectErrno(.invalidArgument, "DETACH pasid 1") { try edu.device.detach(pasid: 1) }
        },
        c("cdev.attach.pasid", "from 6.15 VFIO_DEVICE_ATTACH_PASID reaches iommufd: the edu has no PASID capability, so attaching PASID 1 to an IOAS fails (7.3.4: EINVAL); detaching a PASID that was never attached succeeds (vfio/iommufd.c:223-224); the RID attach still works", since: "6.15") { ctx in
            let rig = try CdevRig(ctx)
            let edu = try BoundEdu(ctx, rig)
            let ioas = try ctx.step("IOAS_ALLOC") { try rig.iommufd.allocIOAS() }
            try ctx.expectErrno(.invalidArgument, "ATTACH pasid 1") {
                try edu.device.attach(pasid: 1, to: ioas.id)
            }
            try ctx.expectOK("DETACH pasid 1 (never attached)") { try edu.device.detach(pasid: 1) }
            try ctx.expectOK("ATTACH the RID") { try edu.device.attach(ioas.id) }
        },
    ]
}
