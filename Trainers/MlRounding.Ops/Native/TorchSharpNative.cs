using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MlRounding.Native;

/// <summary>
/// Makes TorchSharp's native library load on Linux systems whose libstdc++ is older than the one it was
/// built against (Debian 12, Ubuntu 22.04: no <c>GLIBCXX_3.4.32</c>).
/// </summary>
/// <remarks>
/// <para>
/// <c>libLibTorchSharp.so</c> of TorchSharp 0.107 declares a requirement on <c>GLIBCXX_3.4.32</c> for a single
/// symbol, <c>std::ios_base_library_init</c>, which is a marker that no relocation refers to. Older systems then
/// refuse to load it, and TorchSharp reports a misleading <see cref="TypeInitializationException"/>.
/// </para>
/// <para>
/// The fix runs automatically when this assembly is first used (a module initializer) and can be called
/// explicitly with <see cref="EnsureLoaded"/> by an application that calls TorchSharp before any MlRounding
/// API. It never loads LibTorch itself (scoring a trained model in C# does not need it). It reads the library's
/// version requirements: where the requirement is absent or already weak, or the system libstdc++ has the version,
/// nothing changes. Otherwise it marks that one requirement weak (<c>VER_FLG_WEAK</c>) in the copy placed in the
/// application's output (written to a temporary name, then moved). When that folder is read-only, a patched copy is
/// written to a per-user cache folder and handed to the runtime through
/// <see cref="System.Runtime.Loader.AssemblyLoadContext.ResolvingUnmanagedDll"/> when TorchSharp first asks for it.
/// Nothing is installed system-wide.
/// </para>
/// </remarks>
public static class TorchSharpNative
{
    private const string LibraryFile = "libLibTorchSharp.so";
    private const string MissingVersion = ElfVersionPatcher.MarkerVersion;
    private static readonly object Gate = new();
    private static bool _done;
    private static bool _loadable;
    private static IntPtr _cachedHandle;

    /// <summary>Gets a one-line description of what <see cref="EnsureLoaded"/> did, for diagnostics.</summary>
    public static string Status { get; private set; } = "not run";

    /// <summary>
    /// Ensures TorchSharp's native library can be loaded in this process. Safe to call many times and from
    /// many threads; does nothing on operating systems other than Linux.
    /// </summary>
    /// <returns><see langword="true"/> when the native library is loadable; <see langword="false"/> when it could not be
    /// found or fixed (TorchSharp will then report its own error on first use).</returns>
    public static bool EnsureLoaded()
    {
        lock (Gate)
        {
            if (!_done)
            {
                _done = true;
                try
                {
                    _loadable = MakeLoadable();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or BadImageFormatException)
                {
                    Status = "failed: " + e.Message;
                }
            }

            return _loadable || !OperatingSystem.IsLinux();
        }
    }

#pragma warning disable CA2255 // module initializer in a library: intended, it must run before TorchSharp loads.
    [ModuleInitializer]
    internal static void Initialize() => EnsureLoaded();
#pragma warning restore CA2255

    // Never loads LibTorch itself (a model that only scores in C# must not pay for it): it only makes the library in the
    // output loadable, in place when possible, else through a resolver that loads a patched copy when TorchSharp asks.
    private static bool MakeLoadable()
    {
        if (!OperatingSystem.IsLinux())
        {
            Status = "not Linux: nothing to do";
            return true;
        }

        string? path = FindLibrary();
        if (path is null)
        {
            Status = "libLibTorchSharp.so not found next to the application";
            return false;
        }

        var (loadable, status, cacheImage) = Fix(path, () => ElfVersionPatcher.SystemLibStdCxxHas(MissingVersion), TryReplace);
        Status = status;
        if (cacheImage is not null)
        {
            System.Runtime.Loader.AssemblyLoadContext.Default.ResolvingUnmanagedDll += (_, name) =>
                name is "LibTorchSharp" or LibraryFile ? LoadFromCache(path, cacheImage) : IntPtr.Zero;
        }

        return loadable;
    }

    /// <summary>
    /// The decision for the library at <paramref name="path"/>: nothing to do (no strong requirement, or the system has
    /// the version), patched in place through <paramref name="replace"/>, or, when that fails (a read-only folder), the
    /// patched image to load from the user cache. Separate from the process-wide state so that each branch is tested.
    /// </summary>
    internal static (bool Loadable, string Status, byte[]? CacheImage) Fix(string path, Func<bool> systemHasVersion, Func<string, byte[], bool> replace)
    {
        byte[] image = File.ReadAllBytes(path);
        if (!ElfVersionPatcher.HasStrongRequirement(image, MissingVersion))
        {
            return (true, "loadable as shipped or already patched: " + path, null);
        }

        if (systemHasVersion())
        {
            return (true, "the system libstdc++ has " + MissingVersion + ": nothing to do", null);
        }

        ElfVersionPatcher.MarkWeak(image, MissingVersion);
        return replace(path, image)
            ? (true, "patched in place: " + path, null)
            : (true, "output folder read-only: a patched copy will be loaded from the user cache on first use", image);
    }

    // The application folder is read-only: write the patched copy to a per-user cache, load the libraries it
    // needs from the original folder first (the loader then matches them by SONAME), and answer the runtime's
    // request for "LibTorchSharp" with that handle.
    private static IntPtr LoadFromCache(string original, byte[] image)
    {
        string root = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        string copy = CachedCopy(root, image);

        string folder = Path.GetDirectoryName(original)!;
        foreach (string dependency in new[] { "libc10.so", "libtorch_cpu.so", "libtorch.so" })
        {
            string dep = Path.Combine(folder, dependency);
            if (File.Exists(dep))
            {
                NativeLibrary.TryLoad(dep, out _);
            }
        }

        lock (Gate)
        {
            if (_cachedHandle != IntPtr.Zero)
            {
                return _cachedHandle;
            }

            if (!NativeLibrary.TryLoad(copy, out IntPtr handle))
            {
                Status = "could not load the patched copy " + copy;
                return IntPtr.Zero;
            }

            Status = "patched copy loaded from " + copy;
            return _cachedHandle = handle;
        }
    }

    /// <summary>Writes the patched image under <paramref name="root"/>/mlrounding/libtorchsharp-HASH/ (once per image) and returns its path.</summary>
    internal static string CachedCopy(string root, byte[] image)
    {
        string hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(image))[..16];
        string dir = Path.Combine(root, "mlrounding", "libtorchsharp-" + hash);
        Directory.CreateDirectory(dir);
        string copy = Path.Combine(dir, LibraryFile);
        if (!File.Exists(copy))
        {
            TryReplace(copy, image);
        }

        return copy;
    }

    private static bool TryReplace(string path, byte[] image)
    {
        string temp = path + "." + Environment.ProcessId + ".tmp";
        try
        {
            File.WriteAllBytes(temp, image);
            File.Move(temp, path, overwrite: true);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(temp); } catch (IOException) { }
            return false;
        }
    }

    private static string? FindLibrary()
    {
        var folders = new List<string>();
        if (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") is string searchDirs)
        {
            folders.AddRange(searchDirs.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        }

        folders.Add(AppContext.BaseDirectory);
        string? torchDir = Path.GetDirectoryName(typeof(TorchSharp.torch).Assembly.Location);
        if (!string.IsNullOrEmpty(torchDir))
        {
            folders.Add(torchDir);
            folders.Add(Path.Combine(torchDir, "runtimes", "linux-x64", "native"));
        }

        return folders.Select(f => Path.Combine(f, LibraryFile)).FirstOrDefault(File.Exists);
    }
}
