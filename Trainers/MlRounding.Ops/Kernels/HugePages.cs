using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace MlRounding.Kernels;

/// <summary>
/// Output buffers for the kernels. A fresh 64 MB tensor costs ~16,000 page faults on first touch (glibc serves
/// allocations over 32 MB with a new mmap), which costs more than the arithmetic. On Linux, where transparent huge
/// pages are in "madvise" mode, advising the still-untouched buffer to use huge pages cuts that to a few dozen
/// 2 MB faults. Elsewhere, or if the kernel refuses, the advice is a no-op.
/// </summary>
internal static unsafe partial class HugePages
{
    private const int MadvHugePage = 14;
    private const long HugePageSize = 2 << 20;
    private const long MinimumBytes = 8 << 20;

    /// <summary>An uninitialised tensor shaped like <paramref name="like"/>, advised to use huge pages when large.</summary>
    public static Tensor EmptyLike(Tensor like)
    {
        Tensor t = empty_like(like);
        Advise(t);
        return t;
    }

    private static void Advise(Tensor t)
    {
        long bytes = t.numel() * t.element_size();
        if (bytes < MinimumBytes || !OperatingSystem.IsLinux())
        {
            return;
        }

        long address = (long)ElementwiseKernel.Pointer(t);
        long start = (address + HugePageSize - 1) & ~(HugePageSize - 1);
        long end = (address + bytes) & ~(HugePageSize - 1);
        if (end > start)
        {
            _ = Madvise((IntPtr)start, (UIntPtr)(ulong)(end - start), MadvHugePage);
        }
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(IntPtr address, UIntPtr length, int advice);
}
