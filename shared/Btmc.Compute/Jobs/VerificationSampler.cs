using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Btmc.Compute.Jobs;

/// <summary>The part a task plays in a job (docs/compute-jobs.md, "Verification").</summary>
public enum TaskRole
{
    /// <summary>A task of the plan, <c>t00000</c>…, run by the contributor assigned round-robin.</summary>
    Original,

    /// <summary>A sampled original re-executed by another contributor.</summary>
    Verification,

    /// <summary>A third execution that settles an original and its verification that disagree.</summary>
    TieBreak,

    /// <summary>An original re-executed because its contributor was caught: its result replaces theirs.</summary>
    Redo,
}

/// <summary>
/// The secret choices of verification, all HMAC-SHA256 under the backend's job secret (kept in the
/// <c>computesettings</c> table, never shown): which tasks are sampled, who re-executes them, and the ids of the extra
/// tasks, which therefore cannot be guessed from an original's id. Deterministic: the same secret and job give the
/// same choices on every instance and after a restart.
/// </summary>
public sealed class VerificationSampler
{
    /// <summary>Length of the secret.</summary>
    public const int SecretSizeInBytes = 32;

    private readonly byte[] _secret;

    /// <exception cref="ArgumentException">The secret is not <see cref="SecretSizeInBytes"/> bytes.</exception>
    public VerificationSampler(ReadOnlySpan<byte> secret)
    {
        if (secret.Length != SecretSizeInBytes)
        {
            throw new ArgumentException($"The job secret is {SecretSizeInBytes} bytes.", nameof(secret));
        }

        _secret = secret.ToArray();
    }

    /// <summary>
    /// The sampled task indexes of a job of <paramref name="taskCount"/> tasks: task i is sampled when the first 8 bytes
    /// of HMAC(secret, "sample" ‖ job ‖ i), read big-endian, fall below <paramref name="rate"/> × 2^64, so each task is
    /// sampled with probability <paramref name="rate"/>, independently of the others and unpredictably without the
    /// secret. When that samples none, the task with the smallest value is sampled: at least one per job.
    /// </summary>
    public IReadOnlyList<int> Sample(string jobId, int taskCount, double rate)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(taskCount);
        ArgumentOutOfRangeException.ThrowIfNegative(rate);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(rate, 1);
        if (taskCount == 0)
        {
            return [];
        }

        var sampled = new List<int>();
        var smallest = (Index: 0, Value: ulong.MaxValue);
        for (var index = 0; index < taskCount; index++)
        {
            var value = Draw("sample", jobId, Text(index));
            if (rate >= 1 || value < (ulong)(rate * 18446744073709551616.0))
            {
                sampled.Add(index);
            }

            if (value < smallest.Value)
            {
                smallest = (index, value);
            }
        }

        return sampled.Count > 0 ? sampled : [smallest.Index];
    }

    /// <summary>One of <paramref name="candidates"/> for a role of a task: the HMAC over the role, job and task picks
    /// among them in ordinal order.</summary>
    /// <exception cref="ArgumentException">There are no candidates.</exception>
    public string Pick(string jobId, TaskRole role, int index, IEnumerable<string> candidates)
    {
        var ordered = candidates.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (ordered.Count == 0)
        {
            throw new ArgumentException("There is no contributor to pick from.", nameof(candidates));
        }

        return ordered[(int)(Draw("pick", jobId, role.ToString(), Text(index)) % (ulong)ordered.Count)];
    }

    /// <summary>
    /// The id of an extra task: a prefix for the role (<c>v</c> verification, <c>x</c> tie-break, <c>r</c> redo) and 20
    /// hex digits of HMAC(secret, "task" ‖ job ‖ role ‖ index ‖ contributor). Originals are <see cref="JobPlanner.TaskId"/>.
    /// </summary>
    public string TaskId(string jobId, TaskRole role, int index, string contributor)
    {
        var prefix = role switch
        {
            TaskRole.Verification => 'v',
            TaskRole.TieBreak => 'x',
            TaskRole.Redo => 'r',
            _ => throw new ArgumentOutOfRangeException(nameof(role), "Originals are named by JobPlanner.TaskId."),
        };
        return prefix + Convert.ToHexStringLower(Mac("task", jobId, role.ToString(), Text(index), contributor).AsSpan(0, 10));
    }

    private ulong Draw(params string[] parts) => BinaryPrimitives.ReadUInt64BigEndian(Mac(parts));

    /// <summary>HMAC-SHA256(secret, "BTMC-VERIFY-1" ‖ (u16 length ‖ UTF-8)* of the parts): unambiguous framing.</summary>
    private byte[] Mac(params string[] parts)
    {
        using var message = new MemoryStream();
        message.Write("BTMC-VERIFY-1"u8);
        Span<byte> length = stackalloc byte[2];
        foreach (var part in parts)
        {
            var bytes = Encoding.UTF8.GetBytes(part);
            BinaryPrimitives.WriteUInt16BigEndian(length, checked((ushort)bytes.Length));
            message.Write(length);
            message.Write(bytes);
        }

        return HMACSHA256.HashData(_secret, message.ToArray());
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
