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
    public void Apply_ServesBlocksBelow32MiBFromTheHeap_AndMapsLargerOnes()
    {
        IntPtr mallopt = NativeAllocator.MalloptAddress();
        if (!OperatingSystem.IsLinux() || mallopt == IntPtr.Zero)
        {
            Assert.Inconclusive("glibc only");
        }

        // glibc serves a block from free heap space when it can, whatever the thresholds, so the test first uses up the
        // free space: 1 MiB blocks (from the heap under the training thresholds) until the heap has to grow, after which
        // no free chunk holds 4 MiB.
        Assert.AreEqual("mmap threshold 32 MiB, trim threshold 256 MiB", NativeAllocator.Apply(mallopt));
        var fill = new List<IntPtr>();
        try
        {
            ulong heap = MallocInfo().Arena;
            while (MallocInfo().Arena == heap)
            {
                if (fill.Count == 1024)
                {
                    Assert.Inconclusive("1 GiB of 1 MiB blocks did not use up the heap's free space.");
                }

                fill.Add(Marshal.AllocHGlobal(1 << 20));
            }

            AssertThresholds(mallopt);
        }
        finally
        {
            fill.ForEach(Marshal.FreeHGlobal);
        }
    }

    /// <summary>Asserts the thresholds' effect on a 4 MiB block, with no free chunk in the heap that could hold it.</summary>
    private static void AssertThresholds(IntPtr mallopt)
    {
        int control = 4 << 20;

        // At or above the mmap threshold a block that the heap cannot hold is mapped: with a 1 MiB threshold, this one.
        Assert.AreEqual(1, NativeAllocator.Mallopt(mallopt, NativeAllocator.MapThresholdParameter, 1 << 20));
        Assert.AreEqual(1, MappedBlocksAdded(control));

        // With the training thresholds it comes from the heap (which grows); 40 MiB, above them, is still mapped.
        Assert.AreEqual("mmap threshold 32 MiB, trim threshold 256 MiB", NativeAllocator.Apply(mallopt));
        Assert.AreEqual(0, MappedBlocksAdded(control));
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
        ulong before = MallocInfo().MappedBlocks;
        IntPtr block = Marshal.AllocHGlobal(bytes);
        try
        {
            return (long)(MallocInfo().MappedBlocks - before);
        }
        finally
        {
            Marshal.FreeHGlobal(block);
        }
    }

    private static MallocInfo2 MallocInfo() => Marshal.GetDelegateForFunctionPointer<MallInfo2Function>(Libc("mallinfo2"))();

    private static IntPtr Libc(string name)
    {
        IntPtr address = NativeLibrary.TryGetExport(NativeLibrary.Load("libc.so.6"), name, out IntPtr found) ? found : IntPtr.Zero;
        Assert.AreNotEqual(IntPtr.Zero, address, $"glibc 2.33 or later has {name}");
        return address;
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate MallocInfo2 MallInfo2Function();

    /// <summary>glibc's <c>struct mallinfo2</c> (ten size_t fields; <c>hblks</c>, the mapped blocks, is the fourth).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct MallocInfo2
    {
        public ulong Arena, OrdinaryBlocks, SmallBlocks, MappedBlocks, MappedBytes, MaxTotal, FastBytes, Used, Free, KeepCost;
    }
}
