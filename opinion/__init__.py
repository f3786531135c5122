"""Public-opinion monitoring: news and social posts gathered from declared sources, kept once,
normalised, classified by sector, tone and urgency, placed on a commune, watched for spikes and
turned into feedback cases."""
