"""Public-opinion monitoring: news and social posts gathered from declared sources, kept once,
normalised, classified by sector, tone and urgency, placed on a commune, watched for spikes and
turned into feedback cases or incidents; the operators' corrections retrain the classifier
and deployments declare the villages of the gazetteer."""
