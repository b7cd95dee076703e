using System.Buffers;
using System.Buffers.Binary;
using System.CommandLine;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Btmc.Compute.Jobs;
using Btmc.Compute.Mining;

namespace Btmc.Cli;

/// <summary>
/// <c>btmc worker</c>: the program a compute task runs (docs/compute-jobs.md, "Worker results"). It prints one JSON
/// object on standard output, its result, and writes files under <c>out/</c> in its working directory; diagnostics go
/// to standard error. Exit codes: 0 done, 1 the work failed (an unreadable file, no Blender, a failed render), 2 usage.
/// </summary>
public static class WorkerCommand
{
    /// <summary>The environment variable that names the Blender executable (else <c>blender</c> on PATH).</summary>
    public const string BlenderVariable = "BTMC_BLENDER";

    /// <summary>
    /// Run by Blender before rendering, so that two renders of a frame give the same PNG bytes: no metadata stamps
    /// (render date, time, file path, host), Cycles on the CPU with a seed that does not change per frame and without
    /// denoising (whose result depends on the machine, and which Debian's Blender lacks). The worker also drops the PNG
    /// text chunks Blender writes anyway (Cycles' render statistics).
    /// </summary>
    public const string DeterministicRenderSettings = """
        import bpy
        scene = bpy.context.scene
        render = scene.render
        for name in dir(render):
            if name.startswith("use_stamp"):
                setattr(render, name, False)
        if hasattr(scene, "cycles"):
            scene.cycles.device = "CPU"
            scene.cycles.use_animated_seed = False
            scene.cycles.use_denoising = False
            for layer in scene.view_layers:
                if hasattr(layer, "cycles"):
                    layer.cycles.use_denoising = False
        """;

    private const int DigestBufferBytes = 1 << 20;

    internal static Command Create()
    {
        var header = HeaderOption();
        var bits = BitsOption();
        var start = new Option<ulong>("--start") { Required = true, HelpName = "u64", Description = "The first nonce." };
        var count = new Option<ulong>("--count") { Required = true, HelpName = "n", Description = "How many nonces." }.AtLeast(1UL);
        var threads = new Option<int>("--threads") { HelpName = "n", Description = "Hashing threads, one per processor by default.", DefaultValueFactory = _ => Environment.ProcessorCount }.AtLeast(1);
        var hashRange = new Command(WorkerOutput.HashRangeKind, "Find the nonces in [start, start + count) whose share hash has --bits leading zero bits.") { header, bits, start, count, threads };
        hashRange.SetAction((parseResult, output, error, cancellationToken) => TaskAsync(error, () =>
        {
            var (first, n) = (parseResult.GetValue(start), parseResult.GetValue(count));

            // Checked here, not by a validator: validators run before the values are parsed.
            if (n - 1 > ulong.MaxValue - first)
            {
                throw new CliUsageException("--count must be at least 1, and the range must end at or below 2^64 - 1.");
            }

            var found = NonceSearch.Search(parseResult.GetRequiredValue(header), parseResult.GetValue(bits), first, n, parseResult.GetValue(threads), cancellationToken);
            output.WriteLine(WorkerOutput.ToJson(new HashRangeOutput(n, found)));
            return Task.FromResult(0);
        }));

        var files = new Argument<string[]>("file") { Arity = ArgumentArity.OneOrMore, Description = "The files to digest." };
        var digest = new Command(WorkerOutput.DigestKind, "The SHA-256 digest and size of every file.") { files };
        digest.SetAction((parseResult, output, error, cancellationToken) => TaskAsync(error, () => DigestAsync(parseResult.GetRequiredValue(files), output, cancellationToken)));

        var scene = new Option<string>("--scene") { Required = true, HelpName = "file.blend", Description = "The Blender scene." };
        var frames = FramesOption();
        var engine = EngineOption();
        var render = new Command(WorkerOutput.RenderKind, $"Render frames with Blender ({BlenderVariable}, else blender on PATH) to out/frame_####.png.") { scene, frames, engine };
        render.SetAction((parseResult, output, error, cancellationToken) => TaskAsync(error, () =>
            RenderAsync(parseResult.GetRequiredValue(scene), parseResult.GetRequiredValue(frames), parseResult.GetValue(engine), output, error, cancellationToken)));

        return new Command("worker", "Run one compute task here: prints its JSON result on standard output, writes files under out/. Exits 1 when the work fails.")
        {
            hashRange,
            digest,
            render,
        };
    }

    /// <summary><c>--header &lt;hex&gt;</c>: the bytes before the nonce, at most <see cref="ShareHash.MaxHeaderSize"/>.</summary>
    internal static Option<byte[]> HeaderOption() => new("--header")
    {
        Required = true,

        // One hex token, not a list of bytes (the arity System.CommandLine gives an array by default).
        Arity = ArgumentArity.ExactlyOne,
        HelpName = "hex",
        Description = $"The bytes before the nonce, in hex (at most {ShareHash.MaxHeaderSize} bytes).",
        CustomParser = result =>
        {
            try
            {
                var bytes = Convert.FromHexString(result.Tokens.Single().Value);
                return bytes.Length <= ShareHash.MaxHeaderSize ? bytes : CliOptions.Invalid<byte[]>(result, $"--header is at most {ShareHash.MaxHeaderSize} bytes.");
            }
            catch (FormatException)
            {
                return CliOptions.Invalid<byte[]>(result, "--header must be hex.");
            }
        },
    };

    /// <summary><c>--bits &lt;n&gt;</c>: the leading zero bits a share hash needs.</summary>
    internal static Option<int> BitsOption() =>
        new Option<int>("--bits") { Required = true, HelpName = "n", Description = $"The leading zero bits a share hash needs, 1 to {NonceSearch.MaxBits}." }.Between(1, NonceSearch.MaxBits);

    /// <summary><c>--frames &lt;a&gt;-&lt;b&gt;</c>: the first and last frame to render.</summary>
    internal static Option<(int First, int Last)> FramesOption() => new("--frames")
    {
        Required = true,
        HelpName = "a-b",
        Description = $"The frames to render: <first>-<last>, or one frame, 0 <= first <= last <= {FrameRange.MaxFrame}.",
        CustomParser = result => FrameRange.TryParse(result.Tokens.Single().Value, out var first, out var last)
            ? (first, last)
            : CliOptions.Invalid<(int, int)>(result, $"--frames must be <first>-<last> (or one frame), 0 <= first <= last <= {FrameRange.MaxFrame}."),
    };

    /// <summary><c>--engine &lt;engine&gt;</c>: Blender's render engine; the scene's own when absent.</summary>
    internal static Option<string> EngineOption() =>
        new Option<string>("--engine") { Description = "The render engine (default: the scene's)." }.AcceptOnlyFromAmong([.. RenderRequest.Engines]);

    /// <summary>Runs a task's work; a failure of the work itself (not of the command line) exits 1 with the reason.</summary>
    private static async Task<int> TaskAsync(TextWriter error, Func<Task<int>> work)
    {
        try
        {
            return await work();
        }
        catch (WorkerFailure ex)
        {
            error.WriteLine($"btmc worker: {ex.Message}");
            return 1;
        }
    }

    private static async Task<int> DigestAsync(string[] files, TextWriter output, CancellationToken cancellationToken)
    {
        var digests = new List<FileDigest>(files.Length);
        var buffer = ArrayPool<byte>.Shared.Rent(DigestBufferBytes);
        try
        {
            using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var hash = new byte[SHA256.HashSizeInBytes];
            foreach (var file in files)
            {
                var bytes = 0L;
                try
                {
                    await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan | FileOptions.Asynchronous);
                    int read;
                    while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
                    {
                        sha256.AppendData(buffer, 0, read);
                        bytes += read;
                    }
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    throw new WorkerFailure($"cannot read {file}: {ex.Message}");
                }

                sha256.GetHashAndReset(hash);
                digests.Add(new FileDigest(file, Convert.ToHexStringLower(hash), bytes));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        output.WriteLine(WorkerOutput.ToJson(new DigestOutput(digests)));
        return 0;
    }

    private static async Task<int> RenderAsync(string scene, (int First, int Last) range, string? engine, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var (first, last) = range;
        if (!File.Exists(scene))
        {
            throw new WorkerFailure($"the scene {scene} does not exist.");
        }

        var blender = FindBlender();
        Directory.CreateDirectory("out");
        for (var frame = first; frame <= last; frame++)
        {
            // A frame left by an earlier run must not pass for this one's.
            File.Delete(WorkerOutput.FrameFile(frame));
        }

        var start = new ProcessStartInfo(blender)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };

        // Blender resolves relative paths against $PWD, which a parent may have left pointing elsewhere: absolute paths only.
        start.Environment["PWD"] = Directory.GetCurrentDirectory();
        string[] arguments =
        [
            "--factory-startup", "-b", Path.GetFullPath(scene), "--python-expr", DeterministicRenderSettings,
            .. engine is null ? Array.Empty<string>() : ["-E", engine],
            "-o", Path.Combine(Path.GetFullPath("out"), "frame_####"), "-F", "PNG",
            "-s", first.ToString(CultureInfo.InvariantCulture), "-e", last.ToString(CultureInfo.InvariantCulture), "-a",
        ];
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var log = new List<string>();
        int exitCode;
        try
        {
            using var process = Process.Start(start) ?? throw new WorkerFailure($"{blender} did not start.");
            process.StandardInput.Close();
            DataReceivedEventHandler forward = (_, line) =>
            {
                if (line.Data is null)
                {
                    return;
                }

                lock (log)
                {
                    // Blender's own output goes to standard error: standard output carries only the result.
                    error.WriteLine(line.Data);
                    log.Add(line.Data);
                }
            };
            process.OutputDataReceived += forward;
            process.ErrorDataReceived += forward;
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                await process.WaitForExitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            exitCode = process.ExitCode;
        }
        catch (Win32Exception ex)
        {
            throw new WorkerFailure($"cannot run {blender}: {ex.Message}");
        }

        var frames = new List<RenderedFrame>();
        for (var frame = first; frame <= last; frame++)
        {
            var file = WorkerOutput.FrameFile(frame);
            if (exitCode != 0 || !File.Exists(file))
            {
                string[] errors;
                lock (log)
                {
                    errors = [.. log.Where(l => l.Contains("Error", StringComparison.OrdinalIgnoreCase)).TakeLast(5)];
                }

                throw new WorkerFailure((exitCode != 0 ? $"blender exited with code {exitCode}" : $"blender did not write frame {frame} ({file})")
                    + (errors.Length > 0 ? ": " + string.Join(" | ", errors) : "."));
            }

            var png = Png.WithoutTextChunks(await File.ReadAllBytesAsync(file, cancellationToken))
                ?? throw new WorkerFailure($"{file} is not a PNG file.");
            await File.WriteAllBytesAsync(file, png, cancellationToken);
            frames.Add(new RenderedFrame(frame, file, Convert.ToHexStringLower(SHA256.HashData(png))));
        }

        output.WriteLine(WorkerOutput.ToJson(new RenderOutput(frames)));
        return 0;
    }

    /// <summary>The Blender executable: <see cref="BlenderVariable"/>, else <c>blender</c> on PATH.</summary>
    private static string FindBlender()
    {
        if (Environment.GetEnvironmentVariable(BlenderVariable) is { Length: > 0 } configured)
        {
            return File.Exists(configured)
                ? configured
                : throw new WorkerFailure($"blender not found: {BlenderVariable} names {configured}, which does not exist.");
        }

        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, OperatingSystem.IsWindows() ? "blender.exe" : "blender");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new WorkerFailure($"blender not found: install Blender (e.g. apt-get install blender) or set {BlenderVariable} to its executable.");
    }

    /// <summary>The work itself failed: exit code 1 with the reason on standard error.</summary>
    private sealed class WorkerFailure(string message) : Exception(message);

    /// <summary>PNG chunks (RFC 2083): enough to drop the textual metadata.</summary>
    private static class Png
    {
        private static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

        /// <summary>The image without its tEXt, zTXt, iTXt and tIME chunks (render times, dates, paths); null when
        /// the bytes are not a well-formed PNG.</summary>
        public static byte[]? WithoutTextChunks(byte[] png)
        {
            if (png.Length < Signature.Length || !png.AsSpan(0, Signature.Length).SequenceEqual(Signature))
            {
                return null;
            }

            using var kept = new MemoryStream(png.Length);
            kept.Write(Signature);
            var position = Signature.Length;
            while (position + 12 <= png.Length)
            {
                var length = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(position));
                if (length > png.Length - position - 12)
                {
                    return null;
                }

                var type = System.Text.Encoding.ASCII.GetString(png, position + 4, 4);
                var size = (int)length + 12;
                if (type is not ("tEXt" or "zTXt" or "iTXt" or "tIME"))
                {
                    kept.Write(png, position, size);
                }

                position += size;
                if (type == "IEND")
                {
                    return kept.ToArray();
                }
            }

            return null;
        }
    }
}
