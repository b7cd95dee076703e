// BTMC backend: everything `azd up` creates in a fresh subscription (README.md, "Deploy").
// Names: abbreviations.json prefix + resource token; every resource carries the azd-env-name tag, the function app
// also azd-service-name 'api' (azure.yaml). The compute-sharing resources (issue 6) live in app/compute.bicep.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; names every resource (through the token) and the ledger deployment id.')
param environmentName string

@minLength(1)
@description('Region for every resource. Flex Consumption with the custom runtime must be offered there (README).')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Object id of the principal running azd: it gets what the post-provision hook needs (creating producer keys, reading committee public keys, uploading the worker package). Empty: no such roles.')
param principalId string = ''

@description('Principal type of principalId.')
@allowed([
  'User'
  'ServicePrincipal'
])
param principalType string = 'User'

@description('Flex Consumption: the most instances the app scales out to.')
@minValue(40)
@maxValue(1000)
param flexMaximumInstanceCount int = 100

@description('Partitions of the supply-events hub, which is also Supply:Partitions, the number of supply chains (docs/storage-layout.md: 16 on Table storage). Fixed once the hub exists.')
@minValue(1)
@maxValue(32)
param supplyPartitions int = 16

@description('Event Hubs Standard throughput units to start with.')
@minValue(1)
@maxValue(40)
param eventHubsThroughputUnits int = 2

@description('Event Hubs auto-inflate ceiling (10,000 events/s needs about 10 units).')
@minValue(1)
@maxValue(40)
param eventHubsMaximumThroughputUnits int = 20

@description('How many producers this deployment signs for; the post-provision hook makes one Key Vault key per producer.')
@minValue(1)
@maxValue(51)
param producerCount int = 1

@description('Written by the post-provision hook (azd env BTMC_PRODUCER_KEY_IDS): the producers\' versioned key ids, comma-separated, in producer order. Empty on the first provision.')
param producerKeyIds string = ''

@description('Entra object ids of the five committee members, comma-separated (or empty: no committee yet). Each gets a P-256 key in the committee vault that only they may sign with.')
param committeeMemberPrincipalIds string = ''

@description('Key Vault purge protection. Irreversible once on, and then `azd down --purge` cannot purge the vaults.')
param keyVaultPurgeProtection bool = false

@description('VM size of the Batch GPU pool (NC-series).')
param gpuVmSize string = 'Standard_NC4as_T4_v3'

@description('Most nodes the GPU pool autoscales to; it has none while no task waits.')
@minValue(0)
@maxValue(100)
param gpuPoolMaxNodes int = 4

var abbrs = loadJsonContent('./abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var functionAppName = '${abbrs.webSitesFunctions}${resourceToken}'
var deploymentContainerName = 'app-package-${take(functionAppName, 32)}-${take(resourceToken, 7)}'
var committeePrincipalIds = empty(trim(committeeMemberPrincipalIds)) ? [] : map(split(committeeMemberPrincipalIds, ','), id => trim(id))
var producerIds = map(range(1, producerCount), i => 'producer-${i}')

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

// The one identity of the function app: every role it holds is in app/rbac.bicep and app/compute.bicep.
module appIdentity 'br/public:avm/res/managed-identity/user-assigned-identity:0.4.1' = {
  name: 'appIdentity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}api-${resourceToken}'
    location: location
    tags: tags
  }
}

module logAnalytics 'br/public:avm/res/operational-insights/workspace:0.7.0' = {
  name: 'logAnalytics'
  scope: rg
  params: {
    name: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    location: location
    tags: tags
    dataRetention: 30
  }
}

module monitoring 'br/public:avm/res/insights/component:0.4.1' = {
  name: 'monitoring'
  scope: rg
  params: {
    name: '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
    workspaceResourceId: logAnalytics.outputs.resourceId
    disableLocalAuth: true // telemetry only with Entra ID (Monitoring Metrics Publisher, app/rbac.bicep)
    kind: 'web'
    applicationType: 'web'
  }
}

// Ledger tables, the Functions host's blobs and the deployment package; compute containers in app/compute.bicep.
module storage 'br/public:avm/res/storage/storage-account:0.13.2' = {
  name: 'storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}${resourceToken}'
    location: location
    tags: tags
    kind: 'StorageV2'
    skuName: 'Standard_LRS'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false // Entra ID only: no account keys, no SAS signed with them
    dnsEndpointType: 'Standard'
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
    minimumTlsVersion: 'TLS1_2'
    blobServices: {
      containers: [
        {
          name: deploymentContainerName
        }
      ]
    }
  }
}

module eventHubs './app/eventhubs.bicep' = {
  name: 'eventHubs'
  scope: rg
  params: {
    name: '${abbrs.eventHubNamespaces}${resourceToken}'
    location: location
    tags: tags
    throughputUnits: eventHubsThroughputUnits
    maximumThroughputUnits: eventHubsMaximumThroughputUnits
    supplyEventsPartitionCount: supplyPartitions
  }
}

module keyVaults './app/keyvaults.bicep' = {
  name: 'keyVaults'
  scope: rg
  params: {
    producerVaultName: '${abbrs.keyVaultVaults}p-${resourceToken}'
    committeeVaultName: '${abbrs.keyVaultVaults}c-${resourceToken}'
    location: location
    tags: tags
    purgeProtection: keyVaultPurgeProtection
    committeeMemberPrincipalIds: committeePrincipalIds
  }
}

// Issue 6 (compute sharing): mining-events, the Batch GPU pool, its identity and containers.
module compute './app/compute.bicep' = {
  name: 'compute'
  scope: rg
  params: {
    location: location
    tags: tags
    batchAccountName: '${abbrs.batchBatchAccounts}${resourceToken}'
    workerIdentityName: '${abbrs.managedIdentityUserAssignedIdentities}worker-${resourceToken}'
    eventHubsNamespaceName: eventHubs.outputs.name
    storageAccountName: storage.outputs.name
    appPrincipalId: appIdentity.outputs.principalId
    principalId: principalId
    principalType: principalType
    gpuVmSize: gpuVmSize
    gpuPoolMaxNodes: gpuPoolMaxNodes
  }
}

module api './app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: functionAppName
    planName: '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: tags
    flexMaximumInstanceCount: flexMaximumInstanceCount
    identityId: appIdentity.outputs.resourceId
    identityClientId: appIdentity.outputs.clientId
    applicationInsightsName: monitoring.outputs.name
    storageAccountName: storage.outputs.name
    deploymentContainerName: deploymentContainerName
    eventHubsNamespaceName: eventHubs.outputs.name
    supplyPartitions: supplyPartitions
    deploymentId: environmentName
    producerIds: producerIds
    producerKeyIds: producerKeyIds
    batchAccountUrl: compute.outputs.batchAccountUrl
    batchPoolId: compute.outputs.poolId
    workerIdentityId: compute.outputs.workerIdentityId
  }
}

module rbac './app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    appPrincipalId: appIdentity.outputs.principalId
    principalId: principalId
    principalType: principalType
    storageAccountName: storage.outputs.name
    eventHubsNamespaceName: eventHubs.outputs.name
    producerVaultName: keyVaults.outputs.producerVaultName
    committeeVaultName: keyVaults.outputs.committeeVaultName
    applicationInsightsName: monitoring.outputs.name
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output SERVICE_API_NAME string = api.outputs.name
output SERVICE_API_URI string = api.outputs.uri
output APP_IDENTITY_CLIENT_ID string = appIdentity.outputs.clientId
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.connectionString
output STORAGE_ACCOUNT_NAME string = storage.outputs.name
output EVENTHUBS_NAMESPACE_FQDN string = eventHubs.outputs.fullyQualifiedNamespace
output KEYVAULT_PRODUCERS_NAME string = keyVaults.outputs.producerVaultName
output KEYVAULT_PRODUCERS_URI string = keyVaults.outputs.producerVaultUri
output KEYVAULT_COMMITTEE_NAME string = keyVaults.outputs.committeeVaultName
output KEYVAULT_COMMITTEE_URI string = keyVaults.outputs.committeeVaultUri
output COMMITTEE_MEMBER_KEY_IDS string = join(keyVaults.outputs.memberKeyIds, ',')
output PRODUCER_IDS string = join(producerIds, ',')
output BATCH_ACCOUNT_NAME string = compute.outputs.batchAccountName
output BATCH_ACCOUNT_URL string = compute.outputs.batchAccountUrl
output BATCH_POOL_ID string = compute.outputs.poolId
output WORKER_PACKAGE_CONTAINER string = compute.outputs.workerPackageContainer
output WORKER_PACKAGE_BLOB string = compute.outputs.workerPackageBlob
