using System.Security.Cryptography;
using Btmc.Ledger;
using Btmc.Platform.Tables;

namespace Btmc.Compute.Mining;

/// <summary>Where accepted submissions go: the embedded mining log, or the Event Hubs hub <c>mining-events</c>; keyed by contributor so a contributor's events stay in order.</summary>
public interface IMiningEventPublisher
{
    Task PublishAsync(string contributor, byte[] body, CancellationToken cancellationToken = default);
}

/// <summary>A mining job as the API hands it out.</summary>
public sealed record MiningJob(string Contributor, string Header, int DifficultyBits, DateTimeOffset Issued, DateTimeOffset Expires);

/// <summary>
/// The contributor-facing side of mining (docs/compute.md): jobs out, signed submissions in. A submission is checked
/// for its signature and shape, then published to the mining-events stream, durable before the answer; the accountant
/// validates every share from there.
/// </summary>
public sealed class MiningService(ComputeTables tables, Contributors contributors, ComputeOptions options, IMiningEventPublisher publisher, TimeProvider time)
{
    private byte[]? _secret;

    public Contributors Contributors => contributors;

    public ComputeOptions Options => options;

    /// <summary>The secret job seeds are keyed with: created once in the <c>computesettings</c> table and shared by every instance.</summary>
    public async Task<byte[]> JobSecretAsync(CancellationToken cancellationToken = default)
    {
        if (_secret is { } known)
        {
            return known;
        }

        var row = await tables.Settings.GetEntityIfExistsAsync("settings", "mining", cancellationToken).ConfigureAwait(false);
        if (row is null)
        {
            try
            {
                await tables.Settings.AddEntityAsync(new TableEntity("settings", "mining", new Dictionary<string, object> { ["Secret"] = RandomNumberGenerator.GetBytes(32) }), cancellationToken).ConfigureAwait(false);
            }
            catch (TableStoreException ex) when (ex.Status == 409)
            {
                // Another instance created it first: use theirs.
            }

            row = await tables.Settings.GetEntityIfExistsAsync("settings", "mining", cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException("The mining secret could not be stored.");
        }

        return _secret = row.GetBinary("Secret");
    }

    /// <summary>A fresh job for a registered contributor.</summary>
    /// <exception cref="Refused">The contributor is not registered.</exception>
    public async Task<MiningJob> IssueJobAsync(string contributor, CancellationToken cancellationToken = default)
    {
        if (await contributors.FindAsync(contributor, cancellationToken).ConfigureAwait(false) is null)
        {
            throw Refused.Invalid("contributor", $"Contributor '{contributor}' is not registered.");
        }

        var header = MiningJobHeader.Issue(await JobSecretAsync(cancellationToken).ConfigureAwait(false), contributor, options.ShareDifficultyBits, time.GetUtcNow());
        return new MiningJob(contributor, Convert.ToHexStringLower(header.Bytes), header.DifficultyBits, header.Issued, header.Issued.AddSeconds(options.JobLifetimeSeconds));
    }

    /// <summary>Checks a submission's signature and shape and publishes it for accounting; returns the nonces it carries.</summary>
    /// <exception cref="Refused">Unknown contributor, a bad signature, too many nonces, a malformed header.</exception>
    public async Task<int> SubmitAsync(ShareSubmission submission, CancellationToken cancellationToken = default)
    {
        if (await contributors.FindAsync(submission.Contributor, cancellationToken).ConfigureAwait(false) is not { } contributor)
        {
            throw Refused.Invalid("contributor", $"Contributor '{submission.Contributor}' is not registered.");
        }

        var nonces = submission.Jobs.Sum(j => j.Nonces?.Count ?? 0);
        if (nonces > ShareSubmission.MaxNonces)
        {
            throw Refused.Invalid("jobs", $"A submission carries at most {ShareSubmission.MaxNonces} nonces; this one has {nonces}.");
        }

        for (var i = 0; i < submission.Jobs.Count; i++)
        {
            if (submission.Jobs[i] is not { Header.Length: MiningJobHeader.Size * 2, Nonces: not null } job || !job.Header.All(char.IsAsciiHexDigitLower))
            {
                throw Refused.Invalid($"jobs/{i}/header", $"A job header is {MiningJobHeader.Size * 2} lower-case hex digits, with a list of nonces.");
            }
        }

        if (!submission.IsSignedBy(contributor.PublicKey))
        {
            throw Refused.Invalid("signature", "The signature does not verify with the contributor's registered key over the submission's canonical bytes.");
        }

        await publisher.PublishAsync(submission.Contributor, new MiningEvent(time.GetUtcNow().ToUnixTimeMilliseconds(), submission).ToJson(), cancellationToken).ConfigureAwait(false);
        return nonces;
    }
}
