using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Btmc.Compute.Mining;
using Btmc.Testing;
using Xunit;

namespace Btmc.Cli.Tests;

/// <summary><c>btmc worker</c>: the task program, run in this process where it writes nothing, and as a real child
/// process (with its own working directory and environment) where it renders with the installed Blender.</summary>
public sealed class WorkerCommandTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Theory]
    [InlineData(8, 0UL, 5000UL, 1)]
    [InlineData(8, 0UL, 5000UL, 3)]
    [InlineData(6, 123_456UL, 2001UL, 7)]
    [InlineData(4, ulong.MaxValue - 299, 300UL, 4)]
    public async Task HashRange_SmallBits_FindsExactlyTheNoncesAPlainLoopFinds(int bits, ulong start, ulong count, int threads)
    {
        var header = Enumerable.Range(0, 78).Select(i => (byte)(i * 7)).ToArray();
        var expected = new List<ulong>();
        for (var i = 0UL; i < count; i++)
        {
            if (ShareHash.Meets(header, start + i, bits))
            {
                expected.Add(start + i);
            }
        }

        var (exit, output, error) = await BtmcAsync("worker", "hash-range", "--header", Convert.ToHexString(header), "--bits", $"{bits}", "--start", $"{start}", "--count", $"{count}", "--threads", $"{threads}");

        Assert.True(exit == 0, error);
        var result = JsonDocument.Parse(output).RootElement;
        Assert.Equal("hash-range", result.GetProperty("kind").GetString());
        Assert.Equal(count, result.GetProperty("hashes").GetUInt64());
        Assert.NotEmpty(expected);
        Assert.Equal(expected, result.GetProperty("found").EnumerateArray().Select(n => n.GetUInt64()));
        Assert.Single(output.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("--bits", "0", "--bits must be between 1 and 256.")]
    [InlineData("--bits", "257", "--bits must be between 1 and 256.")]
    [InlineData("--count", "0", "--count must be an integer, at least 1.")]
    [InlineData("--header", "xyz", "--header must be hex.")]
    [InlineData("--start", "18446744073709551615", "btmc: --count must be at least 1, and the range must end at or below 2^64 - 1.")]
    [InlineData("--start", "-1", "Cannot parse argument '-1' for option '--start'")]
    [InlineData("--threads", "0", "--threads must be an integer, at least 1.")]
    [InlineData("--threads", "many", "--threads must be an integer, at least 1.")]
    public async Task HashRange_BadArgument_Exits2WithTheReason(string option, string value, string reason)
    {
        var arguments = new Dictionary<string, string> { ["--header"] = "00ff", ["--bits"] = "4", ["--start"] = "0", ["--count"] = "10", [option] = value };

        var (exit, output, error) = await BtmcAsync(["worker", "hash-range", .. arguments.SelectMany(a => new[] { a.Key, a.Value })]);

        Assert.Equal(2, exit);
        Assert.Empty(output);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Digest_NoFile_Exits2()
    {
        var (exit, _, error) = await BtmcAsync("worker", "digest");

        Assert.Equal(2, exit);
        Assert.Contains("Required argument 'file' missing", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Digest_Files_MatchSha256HashData()
    {
        var sizes = new[] { 0, 1, 64, 65, (1 << 20) + 3, (3 << 20) + 17 };
        var files = sizes.Select((size, i) =>
        {
            var path = _directory.Combine($"file-{i}.bin");
            File.WriteAllBytes(path, RandomNumberGenerator.GetBytes(size));
            return path;
        }).ToList();

        var (exit, output, error) = await BtmcAsync(["worker", "digest", .. files]);

        Assert.True(exit == 0, error);
        var result = JsonDocument.Parse(output).RootElement;
        Assert.Equal("digest", result.GetProperty("kind").GetString());
        var digests = result.GetProperty("digests").EnumerateArray().ToList();
        Assert.Equal(files.Count, digests.Count);
        for (var i = 0; i < files.Count; i++)
        {
            Assert.Equal(files[i], digests[i].GetProperty("file").GetString());
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(files[i]))), digests[i].GetProperty("sha256").GetString());
            Assert.Equal(sizes[i], digests[i].GetProperty("bytes").GetInt64());
        }
    }

    [Fact]
    public async Task Digest_MissingFile_Exits1NamingIt()
    {
        var missing = _directory.Combine("missing.bin");

        var (exit, output, error) = await BtmcAsync("worker", "digest", missing);

        Assert.Equal(1, exit);
        Assert.Empty(output);
        Assert.Contains(missing, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Render_Scene_WritesPngFramesOfTheSceneSizeAndTheirHashes()
    {
        var scene = await BlenderScene.CreateAsync(_directory.Path, width: 80, height: 60, frames: 3);
        var work = Directory.CreateDirectory(_directory.Combine("task")).FullName;

        var (exit, output, error) = await RunWorkerProcessAsync(work, null, "render", "--scene", scene, "--frames", "1-3", "--engine", "BLENDER_WORKBENCH");

        Assert.True(exit == 0, error);
        var frames = JsonDocument.Parse(output).RootElement.GetProperty("frames").EnumerateArray().ToList();
        Assert.Equal([1, 2, 3], frames.Select(f => f.GetProperty("frame").GetInt32()));
        var hashes = new HashSet<string>();
        foreach (var frame in frames)
        {
            var file = frame.GetProperty("file").GetString()!;
            Assert.Equal($"out/frame_000{frame.GetProperty("frame").GetInt32()}.png", file);
            var png = File.ReadAllBytes(Path.Combine(work, file));
            Assert.Equal((80, 60), BlenderScene.PngSize(png));
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(png)), frame.GetProperty("sha256").GetString());
            hashes.Add(frame.GetProperty("sha256").GetString()!);
        }

        // The cube turns: every frame differs.
        Assert.Equal(3, hashes.Count);
    }

    [Theory]
    [InlineData("BLENDER_WORKBENCH")]
    [InlineData("CYCLES")]
    public async Task Render_SameFrameTwiceInAnotherFolder_GivesIdenticalPngBytes(string engine)
    {
        var scene = await BlenderScene.CreateAsync(_directory.Path, width: 48, height: 32, frames: 2);
        var first = Directory.CreateDirectory(_directory.Combine("first")).FullName;
        var second = Directory.CreateDirectory(_directory.Combine("second")).FullName;

        var one = await RunWorkerProcessAsync(first, null, "render", "--scene", scene, "--frames", "2", "--engine", engine);
        var two = await RunWorkerProcessAsync(second, null, "render", "--scene", scene, "--frames", "2", "--engine", engine);

        Assert.True(one.Exit == 0, one.Error);
        Assert.True(two.Exit == 0, two.Error);
        Assert.Equal(one.Output, two.Output);
        var bytes = File.ReadAllBytes(Path.Combine(first, "out", "frame_0002.png"));
        Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(second, "out", "frame_0002.png")));
        Assert.Equal((48, 32), BlenderScene.PngSize(bytes));
    }

    [Fact]
    public async Task Render_NoBlender_Exits1WithTheReason()
    {
        var scene = await BlenderScene.CreateAsync(_directory.Path);

        var (exit, output, error) = await RunWorkerProcessAsync(_directory.Path, _directory.Combine("no-blender-here"), "render", "--scene", scene, "--frames", "1-2");

        Assert.Equal(1, exit);
        Assert.Empty(output);
        Assert.Contains("blender not found", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Render_NotABlendFile_Exits1WithBlendersError()
    {
        var scene = _directory.Combine("broken.blend");
        File.WriteAllText(scene, "this is not a blend file");

        var (exit, output, error) = await RunWorkerProcessAsync(_directory.Path, null, "render", "--scene", scene, "--frames", "1-2");

        Assert.Equal(1, exit);
        Assert.Empty(output);
        Assert.Contains("btmc worker: blender exited with code 1: Error: File format is not supported", error, StringComparison.Ordinal);
    }

    private static async Task<(int Exit, string Output, string Error)> BtmcAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await BtmcCli.RunAsync(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>Runs <c>dotnet btmc.dll worker …</c> in <paramref name="workingDirectory"/>, with BTMC_BLENDER set to
    /// <paramref name="blender"/> when given.</summary>
    private static async Task<(int Exit, string Output, string Error)> RunWorkerProcessAsync(string workingDirectory, string? blender, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])[Path.Combine(AppContext.BaseDirectory, "btmc.dll"), "worker", .. args])
        {
            start.ArgumentList.Add(argument);
        }

        if (blender is not null)
        {
            start.Environment["BTMC_BLENDER"] = blender;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await error);
    }
}
