// This file is compiled twice: into MlRounding.Ops (where MLROUNDING_LIBRARY is defined), and by MSBuild's
// RoslynCodeTaskFactory into the build task of build/MlRounding.Ops.targets, which patches the copy of
// libLibTorchSharp.so in a build or publish output. It therefore uses only netstandard2.0 APIs.
using System;
using System.IO;
using System.Text;

namespace MlRounding.Native
{
    /// <summary>
    /// Reads and edits the symbol-version requirements (<c>.gnu.version_r</c>) of a 64-bit little-endian ELF
    /// shared library, to mark one requirement weak (<c>VER_FLG_WEAK</c>): the dynamic loader then accepts a system
    /// library that lacks that version (glibc, dl-version.c), which is safe when no relocation binds to it.
    /// </summary>
    internal static class ElfVersionPatcher
    {
        /// <summary>The version that TorchSharp 0.107's library requires for a marker symbol only.</summary>
        public const string MarkerVersion = "GLIBCXX_3.4.32";

        private const uint ShtGnuVerneed = 0x6ffffffe;
        private const ushort VerFlagWeak = 0x2;

        /// <summary>Finds the flags of the version requirement <paramref name="versionName"/> in the first
        /// <paramref name="length"/> bytes of <paramref name="elf"/>, or null when absent or unreadable.</summary>
        public static ushort? FindRequirementFlags(byte[] elf, string versionName, int length = -1)
        {
            int offset = FindRequirement(elf, length < 0 ? elf.Length : length, versionName);
            return offset < 0 ? (ushort?)null : BitConverter.ToUInt16(elf, offset + 4);
        }

        /// <summary>True when the library requires <paramref name="versionName"/> and the requirement is not weak.</summary>
        public static bool HasStrongRequirement(byte[] elf, string versionName)
        {
            ushort? flags = FindRequirementFlags(elf, versionName);
            return flags.HasValue && (flags.Value & VerFlagWeak) == 0;
        }

        /// <summary>Marks the requirement <paramref name="versionName"/> as weak in place. Returns false when absent.</summary>
        public static bool MarkWeak(byte[] elf, string versionName)
        {
            int offset = FindRequirement(elf, elf.Length, versionName);
            if (offset < 0)
            {
                return false;
            }

            ushort flags = (ushort)(BitConverter.ToUInt16(elf, offset + 4) | VerFlagWeak);
            elf[offset + 4] = (byte)flags;
            elf[offset + 5] = (byte)(flags >> 8);
            return true;
        }

        /// <summary>
        /// True when a system libstdc++ defines <paramref name="versionName"/> (its name appears in the file), in
        /// which case nothing needs patching. Looks in the usual Debian, Ubuntu, Fedora and Alpine locations.
        /// </summary>
        public static bool SystemLibStdCxxHas(string versionName)
        {
            string[] candidates =
            {
                "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
                "/usr/lib/aarch64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
            };
            byte[] wanted = Encoding.ASCII.GetBytes(versionName + "\0");
            foreach (string path in candidates)
            {
                if (File.Exists(path))
                {
                    return IndexOf(File.ReadAllBytes(path), wanted) >= 0;
                }
            }

            return false;
        }

        /// <summary>
        /// Marks <see cref="MarkerVersion"/> weak in the library at <paramref name="path"/> when it is required strongly
        /// and the system lacks it; writes to a temporary name, then moves over the original. Returns true when patched.
        /// </summary>
        public static bool PatchFileIfNeeded(string path)
        {
            if (!File.Exists(path) || SystemLibStdCxxHas(MarkerVersion))
            {
                return false;
            }

            byte[] image = File.ReadAllBytes(path);
            if (!HasStrongRequirement(image, MarkerVersion) || !MarkWeak(image, MarkerVersion))
            {
                return false;
            }

            string temp = path + ".mlrounding.tmp";
            File.WriteAllBytes(temp, image);
            // A rename, not a copy over the original: the build may have hard-linked the output's file to the NuGet
            // cache (Directory.Build.props), and a copy would write through the link into the cache.
            // File.Replace (a rename on Unix) because this file is also compiled as an MSBuild task against netstandard2.0,
            // which has no File.Move overwrite overload.
            File.Replace(temp, path, null);
            return true;
        }

        private static int IndexOf(byte[] haystack, byte[] needle)
        {
            for (int i = 0; i <= haystack.Length - needle.Length; i++)
            {
                int j = 0;
                while (j < needle.Length && haystack[i + j] == needle[j])
                {
                    j++;
                }

                if (j == needle.Length)
                {
                    return i;
                }
            }

            return -1;
        }

        private static bool Fits(long offset, long size, int length) => offset >= 0 && size >= 0 && offset + size <= length;

        // Returns the file offset of the Elf64_Vernaux entry naming versionName, or -1. Layout (System V ABI, LSB
        // "Symbol Versioning"): Elf64_Verneed { u16 version; u16 cnt; u32 file; u32 aux; u32 next; } and
        // Elf64_Vernaux { u32 hash; u16 flags; u16 other; u32 name; u32 next; }. Every read is bounds-checked, so a
        // truncated or foreign file yields -1, never an exception.
        private static int FindRequirement(byte[] elf, int length, string versionName)
        {
            if (!BitConverter.IsLittleEndian || length < 64 || length > elf.Length
                || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F'
                || elf[4] != 2 /* ELFCLASS64 */ || elf[5] != 1 /* little endian */)
            {
                return -1;
            }

            long shoff = BitConverter.ToInt64(elf, 0x28);
            int shentsize = BitConverter.ToUInt16(elf, 0x3A);
            int shnum = BitConverter.ToUInt16(elf, 0x3C);
            if (shentsize < 64 || !Fits(shoff, (long)shentsize * shnum, length))
            {
                return -1;
            }

            byte[] wanted = Encoding.ASCII.GetBytes(versionName + "\0");
            for (int i = 0; i < shnum; i++)
            {
                int sh = (int)(shoff + (long)i * shentsize);
                if (BitConverter.ToUInt32(elf, sh + 4) != ShtGnuVerneed)
                {
                    continue;
                }

                long secOffset = BitConverter.ToInt64(elf, sh + 0x18);
                long secSize = BitConverter.ToInt64(elf, sh + 0x20);
                long strIndex = BitConverter.ToUInt32(elf, sh + 0x28);
                long count = BitConverter.ToUInt32(elf, sh + 0x2C);
                if (strIndex >= shnum || !Fits(secOffset, secSize, length))
                {
                    return -1;
                }

                int strSh = (int)(shoff + strIndex * shentsize);
                long strOffset = BitConverter.ToInt64(elf, strSh + 0x18);
                long strSize = BitConverter.ToInt64(elf, strSh + 0x20);
                if (!Fits(strOffset, strSize, length))
                {
                    return -1;
                }

                int found = FindInVerneed(elf, secOffset, secOffset + secSize, count, strOffset, strSize, wanted);
                if (found >= 0)
                {
                    return found;
                }
            }

            return -1;
        }

        // Walks the Elf64_Verneed chain of one section (bounded by end) and each entry's Elf64_Vernaux chain; returns the
        // offset of the Vernaux whose name (in the string table at strOffset) is wanted, or -1.
        private static int FindInVerneed(byte[] elf, long need, long end, long count, long strOffset, long strSize, byte[] wanted)
        {
            for (long n = 0; n < count && need + 16 <= end; n++)
            {
                int auxCount = BitConverter.ToUInt16(elf, (int)need + 2);
                long aux = need + BitConverter.ToUInt32(elf, (int)need + 8);
                for (int a = 0; a < auxCount && aux + 16 <= end; a++)
                {
                    long name = strOffset + BitConverter.ToUInt32(elf, (int)aux + 8);
                    if (name + wanted.Length <= strOffset + strSize && Matches(elf, (int)name, wanted))
                    {
                        return (int)aux;
                    }

                    uint nextAux = BitConverter.ToUInt32(elf, (int)aux + 12);
                    if (nextAux == 0)
                    {
                        break;
                    }

                    aux += nextAux;
                }

                uint nextNeed = BitConverter.ToUInt32(elf, (int)need + 12);
                if (nextNeed == 0)
                {
                    break;
                }

                need += nextNeed;
            }

            return -1;
        }

        private static bool Matches(byte[] data, int offset, byte[] wanted)
        {
            for (int i = 0; i < wanted.Length; i++)
            {
                if (data[offset + i] != wanted[i])
                {
                    return false;
                }
            }

            return true;
        }
    }

#if !MLROUNDING_LIBRARY
    /// <summary>MSBuild task: patches each given libLibTorchSharp.so when the system needs it.</summary>
    public sealed class MlRoundingPatchLibTorchSharp : Microsoft.Build.Utilities.Task
    {
        /// <summary>The library copies to patch.</summary>
        public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = new Microsoft.Build.Framework.ITaskItem[0];

        /// <summary>Patches the files.</summary>
        public override bool Execute()
        {
            foreach (var item in Files)
            {
                if (ElfVersionPatcher.PatchFileIfNeeded(item.ItemSpec))
                {
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal,
                        "MlRounding: marked " + ElfVersionPatcher.MarkerVersion + " weak in " + item.ItemSpec);
                }
            }

            return true;
        }
    }
#endif
}
