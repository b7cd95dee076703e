using System.Buffers;
using System.Buffers.Binary;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Numerics;
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

    public static async Task<int> RunAsync(CliArguments args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var task = args.RequirePositional(0, "worker task (hash-range, digest or render)");
        try
        {
            return task switch
            {
                WorkerOutput.HashRangeKind => HashRange(args, output, cancellationToken),
                WorkerOutput.DigestKind => await DigestAsync(args, output, cancellationToken),
                WorkerOutput.RenderKind => await RenderAsync(args, output, error, cancellationToken),
                _ => throw new CliUsageException($"unknown worker task '{task}'."),
            };
        }
        catch (WorkerFailure ex)
        {
            error.WriteLine($"btmc worker: {ex.Message}");
            return 1;
        }
    }

    private static int HashRange(CliArguments args, TextWriter output, CancellationToken cancellationToken)
    {
        byte[] header;
        try
        {
            header = Convert.FromHexString(args.Require("header"));
        }
        catch (FormatException)
        {
            throw new CliUsageException("--header must be hex.");
        }

        if (header.Length > ShareHash.MaxHeaderSize)
        {
            throw new CliUsageException($"--header is at most {ShareHash.MaxHeaderSize} bytes.");
        }

        var bits = Number<int>(args, "bits");
        var start = Number<ulong>(args, "start");
        var count = Number<ulong>(args, "count");
        var threads = args.Option("threads") is null ? Environment.ProcessorCount : Number<int>(args, "threads");
        if (bits is < 1 or > NonceSearch.MaxBits)
        {
            throw new CliUsageException($"--bits must be between 1 and {NonceSearch.MaxBits}.");
        }

        if (count == 0 || count - 1 > ulong.MaxValue - start)
        {
            throw new CliUsageException("--count must be at least 1, and the range must end at or below 2^64 - 1.");
        }

        if (threads < 1)
        {
            throw new CliUsageException("--threads must be at least 1.");
        }

        var found = NonceSearch.Search(header, bits, start, count, threads, cancellationToken);
        output.WriteLine(WorkerOutput.ToJson(new HashRangeOutput(count, found)));
        return 0;
    }

    private static async Task<int> DigestAsync(CliArguments args, TextWriter output, CancellationToken cancellationToken)
    {
        var files = args.Positional.Skip(1).ToList();
        if (files.Count == 0)
        {
            throw new CliUsageException("worker digest needs at least one <file>.");
        }

        var digests = new List<FileDigest>(files.Count);
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

    private static async Task<int> RenderAsync(CliArguments args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var scene = args.Require("scene");
        var (first, last) = ParseFrames(args.Require("frames"));
        var engine = args.Option("engine");
        if (engine is not null && !RenderRequest.Engines.Contains(engine))
        {
            throw new CliUsageException($"--engine must be one of {string.Join(", ", RenderRequest.Engines)}.");
        }

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

    private static (int First, int Last) ParseFrames(string frames) =>
        FrameRange.TryParse(frames, out var first, out var last)
            ? (first, last)
            : throw new CliUsageException($"--frames must be <first>-<last> (or one frame), 0 <= first <= last <= {FrameRange.MaxFrame}.");

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

    private static T Number<T>(CliArguments args, string name)
        where T : IBinaryInteger<T> =>
        T.TryParse(args.Require(name), NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new CliUsageException($"--{name} must be a non-negative integer.");

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
