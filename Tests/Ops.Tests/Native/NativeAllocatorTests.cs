using System.Runtime.InteropServices;
using MlRounding.Native;

namespace MlRounding.Tests.Native;

[TestClass]
public sealed class NativeAllocatorTests
{
    [TestMethod]
    public void Applies_OnLinux_UnlessTheEnvironmentSetsTheAllocator()
    {
        Assert.IsTrue(NativeAllocator.Applies(linux: true, null, out _));
        Assert.IsTrue(NativeAllocator.Applies(linux: true, "glibc.pthread.rseq=0", out _));
        Assert.IsFalse(NativeAllocator.Applies(linux: true, "glibc.pthread.rseq=0:glibc.malloc.trim_threshold=1", out string reason));
        StringAssert.Contains(reason, "GLIBC_TUNABLES");
        Assert.IsFalse(NativeAllocator.Applies(linux: false, null, out reason));
        StringAssert.Contains(reason, "not Linux");
    }

    [TestMethod]
    public void Apply_ServesMegabyteBlocksFromTheHeap_AndMapsOnlyAbove32MiB()
    {
        IntPtr mallopt = NativeAllocator.MalloptAddress();
        if (!OperatingSystem.IsLinux() || mallopt == IntPtr.Zero)
        {
            Assert.Inconclusive("glibc only");
        }

        // glibc maps a block at or above the mmap threshold: with a 1 MiB threshold a 4 MiB block is mapped.
        Assert.AreEqual(1, NativeAllocator.Mallopt(mallopt, NativeAllocator.MapThresholdParameter, 1 << 20));
        Assert.AreEqual(1, MappedBlocksAdded(4 << 20));

        Assert.AreEqual("mmap threshold 32 MiB, trim threshold 256 MiB", NativeAllocator.Apply(mallopt));
        Assert.AreEqual(0, MappedBlocksAdded(4 << 20));
        Assert.AreEqual(1, MappedBlocksAdded(40 << 20));
    }

    [TestMethod]
    public void ConfigureForTraining_SaysWhatItDid()
    {
        NativeAllocator.ConfigureForTraining();
        string expected = !OperatingSystem.IsLinux() ? "not Linux: left as it is"
            : Environment.GetEnvironmentVariable("GLIBC_TUNABLES") is { } t && t.Contains("glibc.malloc.") ? "GLIBC_TUNABLES sets the allocator: left as set"
            : NativeAllocator.MalloptAddress() == IntPtr.Zero ? "not glibc (no mallopt in libc.so.6): left as it is"
            : "mmap threshold 32 MiB, trim threshold 256 MiB";
        Assert.AreEqual(expected, NativeAllocator.Status);
    }

    /// <summary>How many mapped blocks glibc holds while a block of <paramref name="bytes"/> is allocated, beyond those before.</summary>
    private static long MappedBlocksAdded(int bytes)
    {
        long before = (long)MallocInfo().MappedBlocks;
        IntPtr block = Marshal.AllocHGlobal(bytes);
        try
        {
            return (long)MallocInfo().MappedBlocks - before;
        }
        finally
        {
            Marshal.FreeHGlobal(block);
        }
    }

    private static MallocInfo2 MallocInfo()
    {
        IntPtr address = NativeLibrary.Load("libc.so.6") is var libc && NativeLibrary.TryGetExport(libc, "mallinfo2", out IntPtr found) ? found : IntPtr.Zero;
        Assert.AreNotEqual(IntPtr.Zero, address, "glibc 2.33 or later has mallinfo2");
        return Marshal.GetDelegateForFunctionPointer<MallInfo2Function>(address)();
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate MallocInfo2 MallInfo2Function();

    /// <summary>glibc's <c>struct mallinfo2</c> (ten size_t fields; <c>hblks</c>, the mapped blocks, is the fourth).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct MallocInfo2
    {
        public nuint Arena, OrdinaryBlocks, SmallBlocks, MappedBlocks, MappedBytes, MaxTotal, FastBytes, Used, Free, KeepCost;
    }
}
