using System.Buffers.Binary;
using System.Text;

namespace MlRounding.Native;

/// <summary>
/// Reads and edits the symbol-version requirements (<c>.gnu.version_r</c>) of a 64-bit little-endian ELF
/// shared library. Used to mark one version requirement as weak (<c>VER_FLG_WEAK</c>), so that the dynamic
/// loader accepts a system library that lacks that version when no relocation uses it.
/// </summary>
internal static class ElfVersionPatcher
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlagWeak = 0x2;

    /// <summary>Finds the flags of the version requirement <paramref name="versionName"/>, or null when absent.</summary>
    public static ushort? FindRequirementFlags(ReadOnlySpan<byte> elf, string versionName)
    {
        int offset = FindRequirement(elf, versionName);
        return offset < 0 ? null : BinaryPrimitives.ReadUInt16LittleEndian(elf.Slice(offset + 4, 2));
    }

    /// <summary>True when the library requires <paramref name="versionName"/> and the requirement is not weak.</summary>
    public static bool HasStrongRequirement(ReadOnlySpan<byte> elf, string versionName)
    {
        ushort? flags = FindRequirementFlags(elf, versionName);
        return flags is ushort f && (f & VerFlagWeak) == 0;
    }

    /// <summary>Marks the requirement <paramref name="versionName"/> as weak in place. Returns false when absent.</summary>
    public static bool MarkWeak(Span<byte> elf, string versionName)
    {
        int offset = FindRequirement(elf, versionName);
        if (offset < 0)
        {
            return false;
        }

        Span<byte> flags = elf.Slice(offset + 4, 2);
        BinaryPrimitives.WriteUInt16LittleEndian(flags, (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(flags) | VerFlagWeak));
        return true;
    }

    // Returns the file offset of the Elf64_Vernaux entry naming versionName, or -1.
    // Layout (System V ABI, LSB "Symbol Versioning"): Elf64_Verneed { u16 version; u16 cnt; u32 file; u32 aux; u32 next; }
    // and Elf64_Vernaux { u32 hash; u16 flags; u16 other; u32 name; u32 next; }. Every offset is bounds-checked,
    // so a truncated or foreign file yields -1 rather than an exception.
    private static int FindRequirement(ReadOnlySpan<byte> elf, string versionName)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F'
            || elf[4] != 2 /* ELFCLASS64 */ || elf[5] != 1 /* little endian */)
        {
            return -1;
        }

        long shoff = BinaryPrimitives.ReadInt64LittleEndian(elf.Slice(0x28));
        int shentsize = BinaryPrimitives.ReadUInt16LittleEndian(elf.Slice(0x3A));
        int shnum = BinaryPrimitives.ReadUInt16LittleEndian(elf.Slice(0x3C));
        if (shentsize < 64 || shoff <= 0 || shoff + (long)shentsize * shnum > elf.Length)
        {
            return -1;
        }

        byte[] wanted = Encoding.ASCII.GetBytes(versionName);
        for (int i = 0; i < shnum; i++)
        {
            ReadOnlySpan<byte> sh = elf.Slice((int)(shoff + (long)i * shentsize), 64);
            if (BinaryPrimitives.ReadUInt32LittleEndian(sh.Slice(4)) != ShtGnuVerneed)
            {
                continue;
            }

            long secOffset = BinaryPrimitives.ReadInt64LittleEndian(sh.Slice(0x18));
            long secSize = BinaryPrimitives.ReadInt64LittleEndian(sh.Slice(0x20));
            int strIndex = (int)BinaryPrimitives.ReadUInt32LittleEndian(sh.Slice(0x28));
            int count = (int)BinaryPrimitives.ReadUInt32LittleEndian(sh.Slice(0x2C));
            if (strIndex >= shnum || secOffset < 0 || secOffset + secSize > elf.Length)
            {
                return -1;
            }

            ReadOnlySpan<byte> strSh = elf.Slice((int)(shoff + (long)strIndex * shentsize), 64);
            long strOffset = BinaryPrimitives.ReadInt64LittleEndian(strSh.Slice(0x18));
            long strSize = BinaryPrimitives.ReadInt64LittleEndian(strSh.Slice(0x20));
            if (strOffset < 0 || strOffset + strSize > elf.Length)
            {
                return -1;
            }

            ReadOnlySpan<byte> strings = elf.Slice((int)strOffset, (int)strSize);
            long need = secOffset;
            for (int n = 0; n < count && need + 16 <= secOffset + secSize; n++)
            {
                int auxCount = BinaryPrimitives.ReadUInt16LittleEndian(elf.Slice((int)need + 2));
                long aux = need + BinaryPrimitives.ReadUInt32LittleEndian(elf.Slice((int)need + 8));
                for (int a = 0; a < auxCount && aux + 16 <= secOffset + secSize; a++)
                {
                    uint nameOffset = BinaryPrimitives.ReadUInt32LittleEndian(elf.Slice((int)aux + 8));
                    if (nameOffset < strings.Length)
                    {
                        ReadOnlySpan<byte> name = strings.Slice((int)nameOffset);
                        int end = name.IndexOf((byte)0);
                        if (end >= 0 && name.Slice(0, end).SequenceEqual(wanted))
                        {
                            return (int)aux;
                        }
                    }

                    uint nextAux = BinaryPrimitives.ReadUInt32LittleEndian(elf.Slice((int)aux + 12));
                    if (nextAux == 0)
                    {
                        break;
                    }

                    aux += nextAux;
                }

                uint nextNeed = BinaryPrimitives.ReadUInt32LittleEndian(elf.Slice((int)need + 12));
                if (nextNeed == 0)
                {
                    break;
                }

                need += nextNeed;
            }
        }

        return -1;
    }
}
