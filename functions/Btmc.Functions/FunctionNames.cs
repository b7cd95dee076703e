namespace Btmc.Functions;

/// <summary>
/// One constant per function: the function's folder name in the published layout, its name in logs, and the
/// endpoint name of its route (for a non-HTTP function, the route is <c>/{name}</c>, where the host invokes it).
/// </summary>
public static class FunctionNames
{
    public const string CaptureEvents = nameof(CaptureEvents);
    public const string GetCapture = nameof(GetCapture);
    public const string GetEvent = nameof(GetEvent);
    public const string QueryEvents = nameof(QueryEvents);
    public const string CreateNamedQuery = nameof(CreateNamedQuery);
    public const string ListNamedQueries = nameof(ListNamedQueries);
    public const string GetNamedQuery = nameof(GetNamedQuery);
    public const string DeleteNamedQuery = nameof(DeleteNamedQuery);
    public const string RunNamedQuery = nameof(RunNamedQuery);
    public const string CreateSubscription = nameof(CreateSubscription);
    public const string ListSubscriptions = nameof(ListSubscriptions);
    public const string GetSubscription = nameof(GetSubscription);
    public const string DeleteSubscription = nameof(DeleteSubscription);
    public const string Trace = nameof(Trace);
    public const string GetAsset = nameof(GetAsset);
    public const string GetReceipt = nameof(GetReceipt);
    public const string RecordOrder = nameof(RecordOrder);
    public const string RecordDespatchAdvice = nameof(RecordDespatchAdvice);
    public const string RecordInvoice = nameof(RecordInvoice);
    public const string AcknowledgeInvoice = nameof(AcknowledgeInvoice);
    public const string GetTradeRecord = nameof(GetTradeRecord);
    public const string GetTradeReceipt = nameof(GetTradeReceipt);
    public const string ListReceivables = nameof(ListReceivables);
    public const string OfferReceivable = nameof(OfferReceivable);
    public const string GetReceivable = nameof(GetReceivable);
    public const string FinanceReceivable = nameof(FinanceReceivable);
    public const string RepayReceivable = nameof(RepayReceivable);
    public const string ListChains = nameof(ListChains);
    public const string GetBlock = nameof(GetBlock);
    public const string ListBlocks = nameof(ListBlocks);
    public const string VerifyLedger = nameof(VerifyLedger);
    public const string ListCheckpoints = nameof(ListCheckpoints);
    public const string GetCheckpoint = nameof(GetCheckpoint);
    public const string GetRootCheckpoint = nameof(GetRootCheckpoint);
    public const string GetConsistencyProof = nameof(GetConsistencyProof);
    public const string SealSupplyEvents = nameof(SealSupplyEvents);
    public const string AuditLedger = nameof(AuditLedger);
    public const string GetGovernance = nameof(GetGovernance);
    public const string ListProposals = nameof(ListProposals);
    public const string CreateProposal = nameof(CreateProposal);
    public const string GetProposal = nameof(GetProposal);
    public const string ApproveProposal = nameof(ApproveProposal);
    public const string CastVote = nameof(CastVote);
    public const string GetAccount = nameof(GetAccount);
    public const string RegisterContributor = nameof(RegisterContributor);
    public const string GetContributor = nameof(GetContributor);
    public const string GetMiningJob = nameof(GetMiningJob);
    public const string SubmitShares = nameof(SubmitShares);
    public const string GetEpoch = nameof(GetEpoch);
    public const string GetPayout = nameof(GetPayout);
    public const string AccountMiningEvents = nameof(AccountMiningEvents);
    public const string CloseEpochs = nameof(CloseEpochs);
    public const string SubmitComputeJob = nameof(SubmitComputeJob);
    public const string GetComputeJob = nameof(GetComputeJob);
    public const string GetComputeTaskFile = nameof(GetComputeTaskFile);
    public const string AdvanceComputeJobs = nameof(AdvanceComputeJobs);
    public const string ListPartners = nameof(ListPartners);
    public const string GetPartner = nameof(GetPartner);
    public const string AddPartner = nameof(AddPartner);
    public const string UpdatePartner = nameof(UpdatePartner);
    public const string RotatePartnerKey = nameof(RotatePartnerKey);
    public const string SuspendPartner = nameof(SuspendPartner);
    public const string ListWitnesses = nameof(ListWitnesses);
    public const string AddWitness = nameof(AddWitness);
    public const string RemoveWitness = nameof(RemoveWitness);
    public const string PostCosignature = nameof(PostCosignature);
    public const string ListCosignatures = nameof(ListCosignatures);
}
