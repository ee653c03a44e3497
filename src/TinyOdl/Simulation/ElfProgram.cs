using ELFSharp.ELF;
using ELFSharp.ELF.Sections;
using ELFSharp.ELF.Segments;

namespace TinyOdl.Simulation;

/// <summary>A loadable segment: physical address, file bytes, size in memory (the rest is zero), executable or not.</summary>
public sealed record ElfSegment(uint Address, byte[] Data, uint MemorySize, bool Executable);

/// <summary>A function or object symbol, for naming addresses in reports.</summary>
public sealed record ElfSymbol(string Name, uint Address, uint Size);

/// <summary>
/// A 32-bit little-endian RISC-V executable read with ELFSharp: its PT_LOAD segments, entry point, function and
/// object symbols with a size (for naming addresses in reports, by address) and every named symbol's value
/// (<see cref="Labels"/>, labels included, first definition wins). Anything else (not an ELF file, 64-bit, another
/// machine, big-endian, not an executable) is a <see cref="TinyOdlException"/> naming the file and what it is.
/// </summary>
public sealed record ElfProgram(
    string Path,
    uint Entry,
    IReadOnlyList<ElfSegment> Segments,
    IReadOnlyList<ElfSymbol> Symbols,
    IReadOnlyDictionary<string, uint> Labels)
{
    private const int RiscVMachine = 243;   // EM_RISCV (ELFSharp's Machine enum has no name for it)

    public static ElfProgram Load(string path)
    {
        if (!File.Exists(path)) throw TinyOdlException.At(path, "file not found");
        Class cls;
        try
        {
            cls = ELFReader.CheckELFType(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw TinyOdlException.At(path, $"cannot read ({e.Message})");
        }
        if (cls == Class.NotELF) throw TinyOdlException.At(path, "not an ELF file");
        if (cls == Class.Bit64) throw TinyOdlException.At(path, "64-bit ELF file; the simulator runs 32-bit RISC-V (RV32) programs");
        ELF<uint> elf;
        try
        {
            elf = ELFReader.Load<uint>(path);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw TinyOdlException.At(path, $"malformed ELF file ({e.Message})");
        }
        using (elf)
        {
            if ((int)elf.Machine != RiscVMachine)
                throw TinyOdlException.At(path, $"ELF file for machine {elf.Machine} ({(int)elf.Machine}), not RISC-V");
            if (elf.Endianess != ELFSharp.Endianess.LittleEndian)
                throw TinyOdlException.At(path, "big-endian ELF file; RISC-V is little-endian");
            if (elf.Type != FileType.Executable)
                throw TinyOdlException.At(path, $"ELF file of type {elf.Type}; the simulator runs linked executables");
            if (elf.Segments.Any(s => s.Type == SegmentType.Load && s.FileSize > s.Size))
                throw TinyOdlException.At(path, "malformed ELF file (a segment holds more bytes in the file than in memory)");
            var segments = elf.Segments
                .Where(s => s.Type == SegmentType.Load && s.Size > 0)
                .Select(s => new ElfSegment(s.PhysicalAddress, s.GetFileContents(), s.Size, s.Flags.HasFlag(SegmentFlags.Execute)))
                .ToArray();
            if (segments.Length == 0) throw TinyOdlException.At(path, "ELF file has no loadable segments");
            var entries = SymbolEntries(elf);
            var symbols = entries
                .Where(e => e.Size > 0 && e.Type is SymbolType.Function or SymbolType.Object)
                .Select(e => new ElfSymbol(e.Name, e.Value, e.Size))
                .OrderBy(s => s.Address)
                .ToArray();
            var labels = new Dictionary<string, uint>(StringComparer.Ordinal);
            foreach (var e in entries) labels.TryAdd(e.Name, e.Value);
            return new ElfProgram(path, elf.EntryPoint, segments, symbols, labels);
        }
    }

    private static SymbolEntry<uint>[] SymbolEntries(ELF<uint> elf) =>
        elf.TryGetSection(".symtab", out var section) && section is SymbolTable<uint> table
            ? table.Entries.Where(e => !string.IsNullOrEmpty(e.Name)).ToArray()
            : [];

    /// <summary>"name+0x12" for an address inside a symbol, or null.</summary>
    public string? SymbolAt(uint address)
    {
        foreach (var s in Symbols)
            if (address - s.Address < s.Size)
                return address == s.Address ? s.Name : $"{s.Name}+0x{address - s.Address:x}";
        return null;
    }
}
