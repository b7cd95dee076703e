using System.Security.Cryptography;
using System.Text;
using Btmc.Compute.Mining;

namespace Btmc.Compute.Jobs;

/// <summary>A task's result once checked: the worker's JSON re-serialised (so equal results are equal strings) and
/// the work it is worth.</summary>
public sealed record CheckedResult(string Canonical, long Work);

/// <summary>
/// Checks a worker's result against what its task was asked (docs/compute-jobs.md, "Verification"): the right kind,
/// every nonce searched, found nonces inside the range and ascending, each one really meeting the difficulty (cheap:
/// two hashes per find); one digest per input file in order; one frame per asked frame, each file present with the
/// SHA-256 claimed. A result that fails is a provable lie (or a broken worker): its contributor is caught whether or
/// not the task was sampled. What these checks cannot see (a nonce left out, a wrong digest) is what sampling is for.
/// </summary>
public static class TaskResults
{
    /// <summary>The longest standard output read as a result.</summary>
    public const int MaxResultBytes = 4 << 20;

    /// <param name="request">The job.</param>
    /// <param name="index">The task's index in the plan.</param>
    /// <param name="stdout">The task's standard output.</param>
    /// <param name="readTaskFile">Reads a file the task left (<c>out/…</c>).</param>
    /// <param name="renderFrameWork">Work units of one frame (<see cref="ComputeOptions.RenderFrameWork"/>).</param>
    /// <param name="cancellationToken">Stops the check.</param>
    /// <exception cref="FormatException">The result is not a valid answer to the task; the message says why.</exception>
    public static async Task<CheckedResult> CheckAsync(JobRequest request, int index, byte[]? stdout,
        Func<string, CancellationToken, Task<byte[]?>> readTaskFile, long renderFrameWork, CancellationToken cancellationToken = default)
    {
        if (stdout is null || stdout.Length == 0)
        {
            throw new FormatException("The task printed no result.");
        }

        if (stdout.Length > MaxResultBytes)
        {
            throw new FormatException($"The result is {stdout.Length} bytes; at most {MaxResultBytes}.");
        }

        var json = Encoding.UTF8.GetString(stdout).Trim();
        return request switch
        {
            HashRangeRequest hashing => CheckHashRange(hashing, index, json),
            DigestRequest digest => CheckDigest(digest, index, json),
            RenderRequest render => await CheckRenderAsync(render, index, json, readTaskFile, renderFrameWork, cancellationToken).ConfigureAwait(false),
            _ => throw new ArgumentException($"Unknown request type {request.GetType().Name}.", nameof(request)),
        };
    }

    private static CheckedResult CheckHashRange(HashRangeRequest request, int index, string json)
    {
        var output = WorkerOutput.ParseHashRange(json);
        var (from, count) = JobPlanner.NonceRange(request, index);
        if (output.Hashes != count)
        {
            throw new FormatException($"The task searched {count} nonces, but the result says {output.Hashes}.");
        }

        // Far more finds than the difficulty allows is no search: refused before hashing them.
        var expected = count * Math.Pow(2, -request.Bits);
        if (output.Found.Count > (4 * expected) + 64)
        {
            throw new FormatException($"The result claims {output.Found.Count} finds where about {expected:F1} are expected.");
        }

        var header = request.HeaderBytes();
        for (var i = 0; i < output.Found.Count; i++)
        {
            var nonce = output.Found[i];
            if (nonce < from || nonce - from >= count || (i > 0 && nonce <= output.Found[i - 1]))
            {
                throw new FormatException($"The found nonce {nonce} is outside {from}..{from + count - 1} or out of order.");
            }

            if (!ShareHash.Meets(header, nonce, request.Bits))
            {
                throw new FormatException($"The found nonce {nonce} does not meet {request.Bits} bits.");
            }
        }

        return new CheckedResult(WorkerOutput.ToJson(output), checked((long)count));
    }

    private static CheckedResult CheckDigest(DigestRequest request, int index, string json)
    {
        var output = WorkerOutput.ParseDigest(json);
        var names = JobPlanner.Task(request, index).InputFiles.Select(f => f.FileName).ToList();
        if (output.Digests.Count != names.Count)
        {
            throw new FormatException($"The task digests {names.Count} files, but the result has {output.Digests.Count}.");
        }

        var work = 0L;
        for (var i = 0; i < names.Count; i++)
        {
            if (output.Digests[i].File != names[i])
            {
                throw new FormatException($"Digest {i} is of {output.Digests[i].File}, not {names[i]}.");
            }

            // Each 64-byte block the hash reads, rounded up.
            work = checked(work + ((output.Digests[i].Bytes + 63) / 64));
        }

        return new CheckedResult(WorkerOutput.ToJson(output), work);
    }

    private static async Task<CheckedResult> CheckRenderAsync(RenderRequest request, int index, string json,
        Func<string, CancellationToken, Task<byte[]?>> readTaskFile, long renderFrameWork, CancellationToken cancellationToken)
    {
        var output = WorkerOutput.ParseRender(json);
        var (first, last) = JobPlanner.Frames(request, index);
        if (output.Frames.Count != last - first + 1)
        {
            throw new FormatException($"The task renders frames {first}..{last}, but the result has {output.Frames.Count} frames.");
        }

        for (var i = 0; i < output.Frames.Count; i++)
        {
            var frame = output.Frames[i];
            var file = WorkerOutput.FrameFile(first + i);
            if (frame.Frame != first + i || frame.File != file)
            {
                throw new FormatException($"Frame {i} of the result is {frame.Frame} in {frame.File}, not {first + i} in {file}.");
            }

            var bytes = await readTaskFile(file, cancellationToken).ConfigureAwait(false)
                ?? throw new FormatException($"The task left no {file}.");
            if (Convert.ToHexStringLower(SHA256.HashData(bytes)) != frame.Sha256)
            {
                throw new FormatException($"{file} does not have the SHA-256 the result claims.");
            }
        }

        return new CheckedResult(WorkerOutput.ToJson(output), checked(output.Frames.Count * renderFrameWork));
    }
}
