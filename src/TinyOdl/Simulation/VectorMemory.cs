using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TinyOdl.Simulation;

/// <summary>
/// Vector loads and stores (RVV 1.0 "Vector Loads and Stores"): unit-stride, strided, indexed (ordered and
/// unordered are the same here: one hart, in element order), fault-only-first, mask and whole-register. The data
/// width of unit-stride and strided accesses is the instruction's EEW with EMUL = EEW/SEW · LMUL; indexed accesses
/// use SEW for data and EEW for the index vector. A fault stops at the faulting element with vstart set to it
/// (fault-only-first instead trims vl when the element is not the first).
/// </summary>
internal sealed partial class VectorUnit
{
    private bool Memory(in Instruction d, out Fault fault)
    {
        fault = default;
        var ram = _m.Ram;
        uint[] x = _h.X;
        uint baseAddress = x[d.Rs1];
        bool load = OpInfo.ClassOf(d.Op) == InstructionClass.VectorLoad;
        int width = d.Width;
        int vd = d.Rd;
        int count, eew = width;                                    // elements and their data width
        bool whole = d.Op is Op.VlreV or Op.VsrV;
        bool indexed = d.Op is Op.VluxeiV or Op.VloxeiV or Op.VsuxeiV or Op.VsoxeiV;
        if (whole)
        {
            int regs = d.Imm;
            if (vd % regs != 0) return Illegal(d, out fault);
            count = regs * _vlenb / width;
        }
        else if (d.Op is Op.VlmV or Op.VsmV)
        {
            count = (int)((_h.Vl + 7) / 8);
            eew = 1;
        }
        else if (indexed)
        {
            eew = Sew;
            if (!Group(vd, Lmul) || !Group(d.Rs2, Lmul * width / Sew)) return Illegal(d, out fault);
            count = (int)_h.Vl;
        }
        else
        {
            if (!Group(vd, Lmul * width / Sew)) return Illegal(d, out fault);
            count = (int)_h.Vl;
        }
        long stride = d.Op is Op.VlseV or Op.VsseV ? (int)x[d.Rs2] : eew;
        bool maskable = !whole && d.Op is not (Op.VlmV or Op.VsmV);
        if (stride == eew && !indexed && (!maskable || !d.Masked) && _h.Vstart == 0 && d.Op != Op.VleffV
            && ram.Contains(baseAddress, (uint)(count * eew)))
        {
            // Contiguous and unmasked: one copy (the common case of compiled kernels).
            var registers = _v.AsSpan(vd * _vlenb, count * eew);
            var memory = ram.Bytes.AsSpan((int)(baseAddress - ram.Origin), count * eew);
            if (load) memory.CopyTo(registers);
            else
            {
                registers.CopyTo(memory);
                _m.Code.Invalidate(baseAddress, (uint)(count * eew));
            }
            return true;
        }
        if (!indexed && (!maskable || !d.Masked) && d.Op != Op.VleffV && eew is 2 or 4 && count > 0
            && ram.Contains((uint)(baseAddress + Math.Min(0, stride * (count - 1))), (uint)(Math.Abs(stride) * (count - 1) + eew)))
        {
            // Strided, unmasked, every element in RAM: typed element moves without per-element checks.
            int first = (int)_h.Vstart, offset = (int)(baseAddress - ram.Origin);
            if (eew == 2) StridedCopy<ushort>(ram, vd, first, count, offset, stride, load);
            else StridedCopy<uint>(ram, vd, first, count, offset, stride, load);
            if (!load) _m.Code.Invalidate((uint)(baseAddress + Math.Min(0, stride * (count - 1))), (uint)(Math.Abs(stride) * (count - 1) + eew));
            return true;
        }
        for (int i = (int)_h.Vstart; i < count; i++)
        {
            if (maskable && !Active(d, i)) continue;
            uint address = indexed ? baseAddress + (uint)Get(d.Rs2, i, width) : (uint)(baseAddress + stride * i);
            if (!ram.Contains(address, (uint)eew))
            {
                if (d.Op == Op.VleffV && i > 0)
                {
                    _h.Vl = (uint)i;
                    break;
                }
                _h.Vstart = (uint)i;
                fault = new Fault(load ? TrapCause.LoadAccessFault : TrapCause.StoreAccessFault, address);
                return false;
            }
            if (load)
            {
                Set(vd, i, eew, eew switch
                {
                    1 => ram.Read<byte>(address),
                    2 => ram.Read<ushort>(address),
                    4 => ram.Read<uint>(address),
                    _ => ram.Read<ulong>(address),
                });
            }
            else
            {
                ulong v = Get(vd, i, eew);
                switch (eew)
                {
                    case 1: ram.Write(address, (byte)v); break;
                    case 2: ram.Write(address, (ushort)v); break;
                    case 4: ram.Write(address, (uint)v); break;
                    default: ram.Write(address, v); break;
                }
                _m.Code.Invalidate(address, (uint)eew);
            }
        }
        return true;
    }

    private void StridedCopy<T>(Ram ram, int vd, int first, int count, int offset, long stride, bool load) where T : unmanaged
    {
        Span<T> lanes = MemoryMarshal.Cast<byte, T>(_v.AsSpan(vd * _vlenb, count * Unsafe.SizeOf<T>()));
        ref byte memory = ref MemoryMarshal.GetArrayDataReference(ram.Bytes);
        for (int i = first; i < count; i++)
        {
            ref byte element = ref Unsafe.Add(ref memory, (nint)(offset + stride * i));
            if (load) lanes[i] = Unsafe.ReadUnaligned<T>(ref element);
            else Unsafe.WriteUnaligned(ref element, lanes[i]);
        }
    }
}
